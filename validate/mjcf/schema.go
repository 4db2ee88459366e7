package mjcf

import (
	"fmt"
	"strconv"
	"strings"
)

// The MJCF grammar of MuJoCo 3.3.x, as a table.
//
// Source: the MJCF[] schema table of google-deepmind/mujoco
// src/xml/xml_native_reader.cc in the 3.3 series (the release mujoco-js 0.0.7
// compiles, MuJoCo 3.3.8), checked against doc/XMLreference.rst. Value types
// and counts follow the reader's ReadAttr calls, as the typed schema
// src/xml/mjcf.schema of later releases spells them (double[3] = exactly 3
// numbers, double[1..3] = one to three).
//
// Syntax: one element per line, indented two spaces per nesting level; the
// element name carries its cardinality (* any number, ? at most one, ! exactly
// one, R any number and recursive); then its attributes, each name[:type].
// Types:
//
//	(none)   text, not checked
//	r        one real; rN exactly N; rA-B from A to B; r* any number
//	i        one integer; iN, iA-B, i* as for reals
//	b        true|false
//	q        a quaternion: exactly 4 reals, not all zero
//	a|b|c    one of the keywords
//
// A leading ! marks a required attribute.
//
// @orient stands for the orientation attributes (quat axisangle xyaxes zaxis
// euler), @tfa for the keyword set false|true|auto. worldbody, frame and
// replicate share body's children, as mjXSchema::NameMatch has it.
const schemaTable = `
mujoco! model
  compiler* autolimits:b boundmass:r boundinertia:r settotalmass:r balanceinertia:b strippath:b coordinate:local|global angle:radian|degree fitaabb:b eulerseq meshdir texturedir discardvisual:b usethread:b fusestatic:b inertiafromgeom:@tfa inertiagrouprange:i2 saveinertial:b assetdir alignfree:b
    lengthrange? mode:none|muscle|muscleuser|all useexisting:b uselimit:b accel:r maxforce:r timeconst:r timestep:r inttotal:r interval:r tolrange:r
  option* timestep:r impratio:r tolerance:r ls_tolerance:r noslip_tolerance:r ccd_tolerance:r gravity:r3 wind:r3 magnetic:r3 density:r viscosity:r o_margin:r o_solref:r1-2 o_solimp:r1-5 o_friction:r1-5 integrator:Euler|RK4|implicit|implicitfast cone:pyramidal|elliptic jacobian:dense|sparse|auto solver:PGS|CG|Newton iterations:i ls_iterations:i noslip_iterations:i ccd_iterations:i sdf_iterations:i sdf_initpoints:i actuatorgroupdisable:i*
    flag? constraint:@ed equality:@ed frictionloss:@ed limit:@ed contact:@ed spring:@ed damper:@ed gravity:@ed clampctrl:@ed warmstart:@ed filterparent:@ed actuation:@ed refsafe:@ed sensor:@ed midphase:@ed eulerdamp:@ed autoreset:@ed override:@ed energy:@ed fwdinv:@ed invdiscrete:@ed multiccd:@ed island:@ed nativeccd:@ed
  size* memory njmax:i nconmax:i nstack:i nuserdata:i nkey:i nuser_body:i nuser_jnt:i nuser_geom:i nuser_site:i nuser_cam:i nuser_tendon:i nuser_actuator:i nuser_sensor:i
  visual*
    global? orthographic:b fovy:r ipd:r azimuth:r elevation:r linewidth:r glow:r offwidth:i offheight:i realtime:r ellipsoidinertia:b bvactive:b cameraid:i
    quality? shadowsize:i offsamples:i numslices:i numstacks:i numquads:i
    headlight? ambient:r3 diffuse:r3 specular:r3 active:i
    map? stiffness:r stiffnessrot:r force:r torque:r alpha:r fogstart:r fogend:r znear:r zfar:r haze:r shadowclip:r shadowscale:r actuatortendon:r
    scale? forcewidth:r contactwidth:r contactheight:r connect:r com:r camera:r light:r selectpoint:r jointlength:r jointwidth:r actuatorlength:r actuatorwidth:r framelength:r framewidth:r constraint:r slidercrank:r frustum:r
    rgba? fog:r4 haze:r4 force:r4 inertia:r4 joint:r4 actuator:r4 actuatornegative:r4 actuatorpositive:r4 com:r4 camera:r4 light:r4 selectpoint:r4 connect:r4 contactpoint:r4 contactforce:r4 contactfriction:r4 contacttorque:r4 contactgap:r4 rangefinder:r4 constraint:r4 slidercrank:r4 crankbroken:r4 frustum:r4 bv:r4 bvactive:r4
  statistic* meaninertia:r meanmass:r meansize:r extent:r center:r3
  default R class
    mesh? scale:r3 maxhullvert:i inertia:convex|legacy|exact|shell
    material? texture emission:r specular:r shininess:r reflectance:r metallic:r roughness:r rgba:r4 texrepeat:r2 texuniform:b
    joint? type:free|ball|slide|hinge group:i pos:r3 axis:r3 springdamper:r2 limited:@tfa actuatorfrclimited:@tfa solreflimit:r1-2 solimplimit:r1-5 solreffriction:r1-2 solimpfriction:r1-5 stiffness:r range:r2 actuatorfrcrange:r2 actuatorgravcomp:b margin:r ref:r springref:r armature:r damping:r frictionloss:r user:r*
    geom? type:@geomtype pos:r3 @orient contype:i conaffinity:i condim:i group:i priority:i size:r1-3 material friction:r1-3 mass:r density:r shellinertia:b solmix:r solref:r1-2 solimp:r1-5 margin:r gap:r fromto:r6 hfield mesh fitscale:r rgba:r4 fluidshape:none|ellipsoid fluidcoef:r1-5 user:r*
    site? type:@geomtype group:i pos:r3 @orient material size:r1-3 fromto:r6 rgba:r4 user:r*
    camera? orthographic:b fovy:r ipd:r resolution:i2 pos:r3 @orient mode:@camlight focal:r2 focalpixel:r2 principal:r2 principalpixel:r2 sensorsize:r2 user:r*
    light? pos:r3 dir:r3 bulbradius:r intensity:r range:r directional:b type:spot|directional|point|image castshadow:b active:b attenuation:r3 cutoff:r exponent:r ambient:r3 diffuse:r3 specular:r3 mode:@camlight
    pair? condim:i friction:r1-5 solref:r1-2 solreffriction:r1-2 solimp:r1-5 gap:r margin:r
    equality? active:b solref:r1-2 solimp:r1-5
    tendon? group:i limited:@tfa range:r2 solreflimit:r1-2 solimplimit:r1-5 solreffriction:r1-2 solimpfriction:r1-5 frictionloss:r springlength:r1-2 width:r material margin:r stiffness:r damping:r rgba:r4 user:r*
    general? @actbase actlimited:@tfa actrange:r2 actdim:i dyntype:@dyn gaintype:@gain biastype:@bias dynprm:r1-10 gainprm:r1-10 biasprm:r1-10 actearly:b
    motor? @actbase
    position? @actbase inheritrange:r kp:r kv:r dampratio:r timeconst:r
    velocity? @actbase kv:r
    intvelocity? @actbase actrange:r2 inheritrange:r kp:r kv:r dampratio:r
    damper? @damperbase kv:r
    cylinder? @actbase timeconst:r area:r diameter:r bias:r3
    muscle? @actbase timeconst:r2 range:r2 force:r scale:r lmin:r lmax:r vmax:r fpmax:r fvmax:r
    adhesion? forcelimited:@tfa ctrlrange:r2 forcerange:r2 gain:r user:r* group:i
  extension*
    plugin* plugin
      instance* !name
        config* key value
  custom*
    numeric* !name size:i data:r*
    text* name data
    tuple* !name
      element* !objtype !objname !prm:r
  asset*
    mesh* name class content_type file vertex:r* normal:r* texcoord:r* face:i* refpos:r3 refquat:q scale:r3 smoothnormal:b maxhullvert:i inertia:convex|legacy|exact|shell builtin:none|sphere|hemisphere|cone|supertorus|supersphere|wedge|plate params:r* material
      plugin* plugin instance
        config* key value
    hfield* name content_type file nrow:i ncol:i !size:r4 elevation:r*
    skin* name file material rgba:r4 inflate:r vertex:r* texcoord:r* face:i* group:i
      bone* !body !bindpos:r3 !bindquat:q !vertid:i* !vertweight:r*
    texture* name type:2d|cube|skybox colorspace:auto|linear|sRGB content_type file gridsize:i2 gridlayout fileright fileleft fileup filedown filefront fileback builtin:none|gradient|checker|flat rgb1:r3 rgb2:r3 mark:none|edge|cross|random markrgb:r3 random:r width:i height:i hflip:b vflip:b nchannel:i
    material* name class texture texrepeat:r2 texuniform:b emission:r specular:r shininess:r reflectance:r metallic:r roughness:r rgba:r4
      layer* !texture !role:rgb|occlusion|roughness|metallic|normal|opacity|emissive|rgba|orm
    model* name !file content_type
  worldbody*
  body R name childclass pos:r3 @orient mocap:b gravcomp:r user:r*
    inertial? !pos:r3 quat:q !mass:r diaginertia:r3 axisangle:r4 xyaxes:r6 zaxis:r3 euler:r3 fullinertia:r6
    joint* name class type:free|ball|slide|hinge group:i pos:r3 axis:r3 springdamper:r2 limited:@tfa actuatorfrclimited:@tfa solreflimit:r1-2 solimplimit:r1-5 solreffriction:r1-2 solimpfriction:r1-5 stiffness:r range:r2 actuatorfrcrange:r2 actuatorgravcomp:b margin:r ref:r springref:r armature:r damping:r frictionloss:r user:r*
    freejoint* name group:i align:@tfa
    geom* name class type:@geomtype contype:i conaffinity:i condim:i group:i priority:i size:r1-3 material friction:r1-3 mass:r density:r shellinertia:b solmix:r solref:r1-2 solimp:r1-5 margin:r gap:r fromto:r6 pos:r3 @orient hfield mesh fitscale:r rgba:r4 fluidshape:none|ellipsoid fluidcoef:r1-5 user:r*
      plugin* plugin instance
        config* key value
    attach* !model body !prefix
    site* name class type:@geomtype group:i pos:r3 @orient material size:r1-3 fromto:r6 rgba:r4 user:r*
    camera* name class orthographic:b fovy:r ipd:r resolution:i2 pos:r3 @orient mode:@camlight target focal:r2 focalpixel:r2 principal:r2 principalpixel:r2 sensorsize:r2 user:r*
    light* name class directional:b type:spot|directional|point|image castshadow:b active:b pos:r3 dir:r3 bulbradius:r intensity:r range:r attenuation:r3 cutoff:r exponent:r ambient:r3 diffuse:r3 specular:r3 mode:@camlight target texture
    plugin* plugin instance
      config* key value
    composite* prefix !type:particle|grid|rope|loop|cable|cloth count:i1-3 offset:r3 vertex:r* initial curve size:r1-3 quat:q
      joint* !kind:main|twist|stretch|particle group:i stiffness:r damping:r armature:r solreffix:r1-2 solimpfix:r1-5 type:free|ball|slide|hinge axis:r3 limited:@tfa range:r2 margin:r solreflimit:r1-2 solimplimit:r1-5 frictionloss:r solreffriction:r1-2 solimpfriction:r1-5
      skin? texcoord:b material group:i rgba:r4 inflate:r subgrid:i
      geom? type:@geomtype contype:i conaffinity:i condim:i group:i priority:i size:r1-3 material rgba:r4 friction:r1-3 mass:r density:r solmix:r solref:r1-2 solimp:r1-5 margin:r gap:r
      site? group:i size:r1-3 material rgba:r4
      plugin* plugin instance
        config* key value
    flexcomp* !name type:grid|box|cylinder|ellipsoid|square|disc|circle|mesh|gmsh|direct group:i dim:i dof:full|radial|trilinear count:i3 spacing:r3 radius:r rigid:b mass:r inertiabox:r scale:r3 file point:r* element:i* texcoord:r* material rgba:r4 flatskin:b pos:r3 @orient origin:r3
      edge? equality:false|true|vert|strain solref:r1-2 solimp:r1-5 stiffness:r damping:r
      elasticity? young:r poisson:r damping:r thickness:r elastic2d:none|bend|stretch|both
      contact? contype:i conaffinity:i condim:i priority:i friction:r1-3 solmix:r solref:r1-2 solimp:r1-5 margin:r gap:r internal:b selfcollide:none|narrow|bvh|sap|auto activelayers:i vertcollide:b passive:b
      pin* id:i* range:i* grid:i* gridrange:i*
      plugin* plugin instance
        config* key value
    frame R name childclass pos:r3 @orient
    replicate R !count:i offset:r3 euler:r3 sep
  deformable*
    flex* name group:i dim:i radius:r material rgba:r4 flatskin:b !body vertex:r* element:i* texcoord:r* elemtexcoord:i* node
      contact? contype:i conaffinity:i condim:i priority:i friction:r1-3 solmix:r solref:r1-2 solimp:r1-5 margin:r gap:r internal:b selfcollide:none|narrow|bvh|sap|auto activelayers:i vertcollide:b passive:b
      edge? stiffness:r damping:r
      elasticity? young:r poisson:r damping:r thickness:r elastic2d:none|bend|stretch|both
    skin* name file material rgba:r4 inflate:r vertex:r* texcoord:r* face:i* group:i
      bone* !body !bindpos:r3 !bindquat:q !vertid:i* !vertweight:r*
  contact*
    pair* name class geom1 geom2 condim:i friction:r1-5 solref:r1-2 solreffriction:r1-2 solimp:r1-5 gap:r margin:r
    exclude* name !body1 !body2
  equality*
    connect* name class body1 body2 anchor:r3 site1 site2 active:b solref:r1-2 solimp:r1-5
    weld* name class body1 body2 relpose:r7 anchor:r3 site1 site2 active:b solref:r1-2 solimp:r1-5 torquescale:r
    joint* name class !joint1 joint2 polycoef:r1-5 active:b solref:r1-2 solimp:r1-5
    tendon* name class !tendon1 tendon2 polycoef:r1-5 active:b solref:r1-2 solimp:r1-5
    flex* name class !flex active:b solref:r1-2 solimp:r1-5
  tendon*
    spatial* name class group:i limited:@tfa actuatorfrclimited:@tfa range:r2 actuatorfrcrange:r2 solreflimit:r1-2 solimplimit:r1-5 solreffriction:r1-2 solimpfriction:r1-5 frictionloss:r springlength:r1-2 width:r material margin:r stiffness:r damping:r armature:r rgba:r4 user:r*
      site* !site
      geom* !geom sidesite
      pulley* divisor:r
    fixed* name class group:i limited:@tfa actuatorfrclimited:@tfa range:r2 actuatorfrcrange:r2 solreflimit:r1-2 solimplimit:r1-5 solreffriction:r1-2 solimpfriction:r1-5 frictionloss:r springlength:r1-2 margin:r stiffness:r damping:r armature:r user:r*
      joint* !joint !coef:r
  actuator*
    general* name class @actbase @trn actlimited:@tfa actrange:r2 body actdim:i dyntype:@dyn gaintype:@gain biastype:@bias dynprm:r1-10 gainprm:r1-10 biasprm:r1-10 actearly:b
    motor* name class @actbase @trn
    position* name class @actbase @trn inheritrange:r kp:r kv:r dampratio:r timeconst:r
    velocity* name class @actbase @trn kv:r
    intvelocity* name class @actbase @trn actrange:r2 inheritrange:r kp:r kv:r dampratio:r
    damper* name class @damperbase @trn kv:r
    cylinder* name class @actbase @trn timeconst:r area:r diameter:r bias:r3
    muscle* name class @actbase lengthrange:r2 joint jointinparent tendon slidersite cranksite timeconst:r2 tausmooth:r range:r2 force:r scale:r lmin:r lmax:r vmax:r fpmax:r fvmax:r
    adhesion* name class group:i forcelimited:@tfa ctrlrange:r2 forcerange:r2 user:r* body gain:r
    plugin* name class plugin instance @actbase actlimited:@tfa actrange:r2 lengthrange:r2 joint jointinparent site actdim:i dyntype:@dyn dynprm:r1-10 tendon cranksite slidersite actearly:b
      config* key value
  sensor*
    touch* site @sens
    accelerometer* site @sens
    velocimeter* site @sens
    gyro* site @sens
    force* site @sens
    torque* site @sens
    magnetometer* site @sens
    camprojection* site camera @sens
    rangefinder* site @sens
    jointpos* joint @sens
    jointvel* joint @sens
    tendonpos* tendon @sens
    tendonvel* tendon @sens
    actuatorpos* actuator @sens
    actuatorvel* actuator @sens
    actuatorfrc* actuator @sens
    jointactuatorfrc* joint @sens
    tendonactuatorfrc* tendon @sens
    ballquat* joint @sens
    ballangvel* joint @sens
    jointlimitpos* joint @sens
    jointlimitvel* joint @sens
    jointlimitfrc* joint @sens
    tendonlimitpos* tendon @sens
    tendonlimitvel* tendon @sens
    tendonlimitfrc* tendon @sens
    framepos* objtype objname reftype refname @sens
    framequat* objtype objname reftype refname @sens
    framexaxis* objtype objname reftype refname @sens
    frameyaxis* objtype objname reftype refname @sens
    framezaxis* objtype objname reftype refname @sens
    framelinvel* objtype objname reftype refname @sens
    frameangvel* objtype objname reftype refname @sens
    framelinacc* objtype objname @sens
    frameangacc* objtype objname @sens
    subtreecom* body @sens
    subtreelinvel* body @sens
    subtreeangmom* body @sens
    insidesite* site objtype objname @sens
    distance* geom1 geom2 body1 body2 @sens
    normal* geom1 geom2 body1 body2 @sens
    fromto* geom1 geom2 body1 body2 @sens
    contact* name geom1 geom2 body1 body2 subtree1 subtree2 site num:i data reduce:none|mindist|maxforce|netforce cutoff:r
    e_potential* @sens
    e_kinetic* @sens
    clock* @sens
    tactile* name geom mesh user:r*
    user* objtype objname datatype:real|positive|axis|quaternion needstage:none|pos|vel|acc !dim:i @sens
    plugin* name plugin instance objtype objname reftype refname cutoff:r user:r*
      config* key value
  keyframe*
    key* name time:r qpos:r* qvel:r* act:r* mpos:r* mquat:r* ctrl:r*
`

// Macros expanded inside schemaTable rows.
var schemaMacros = map[string]string{
	"@orient":     "quat:q axisangle:r4 xyaxes:r6 zaxis:r3 euler:r3",
	"@actbase":    "group:i ctrllimited:@tfa forcelimited:@tfa ctrlrange:r2 forcerange:r2 gear:r1-6 cranklength:r user:r*",
	"@damperbase": "group:i forcelimited:@tfa ctrlrange:r2 forcerange:r2 gear:r1-6 cranklength:r user:r*",
	"@trn":        "lengthrange:r2 joint jointinparent tendon slidersite cranksite site refsite",
	"@sens":       "name cutoff:r noise:r user:r*",
}

var keywordMacros = map[string]string{
	"@tfa":      "false|true|auto",
	"@ed":       "disable|enable",
	"@geomtype": "plane|hfield|sphere|capsule|ellipsoid|cylinder|box|mesh|sdf",
	"@camlight": "fixed|track|trackcom|targetbody|targetbodycom",
	"@dyn":      "none|integrator|filter|filterexact|muscle|user",
	"@gain":     "fixed|affine|muscle|user",
	"@bias":     "none|affine|muscle|user",
}

// valueKind is what an attribute's text must be.
type valueKind int

const (
	kindText valueKind = iota
	kindReal
	kindInt
	kindKeyword
)

// attrSpec says how to read one attribute.
type attrSpec struct {
	kind     valueKind
	required bool
	min, max int // value count; max < 0: unbounded
	quat     bool
	keywords []string
}

// elemSpec is one row of the grammar.
type elemSpec struct {
	name  string
	card  byte // '*', '?', '!', 'R'
	attrs map[string]attrSpec
	// required lists the required attributes, in table order.
	required []string
	children []*elemSpec
	// shareBody marks frame and replicate: their children are body's.
	shareBody bool
}

// schemaRoot is the parsed table; the <mujoco> row.
var schemaRoot = mustParseSchema(schemaTable)

func mustParseSchema(src string) *elemSpec {
	root, err := parseSchema(src)
	if err != nil {
		panic("mjcf schema table: " + err.Error())
	}
	return root
}

func parseSchema(src string) (*elemSpec, error) {
	var stack []*elemSpec
	var root, body *elemSpec
	var worldbody *elemSpec
	for n, line := range strings.Split(src, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent%2 != 0 {
			return nil, fmt.Errorf("line %d: odd indentation", n+1)
		}
		level := indent / 2
		fields := strings.Fields(line)
		head := fields[0]
		card := head[len(head)-1]
		name := head[:len(head)-1]
		if card != '*' && card != '?' && card != '!' {
			if len(fields) < 2 || fields[1] != "R" {
				return nil, fmt.Errorf("line %d: element %q without cardinality", n+1, head)
			}
			card, name = 'R', head
			fields = fields[1:]
		}
		e := &elemSpec{name: name, card: card, attrs: map[string]attrSpec{}}
		var tokens []string
		for _, f := range fields[1:] {
			if m, ok := schemaMacros[f]; ok {
				tokens = append(tokens, strings.Fields(m)...)
			} else {
				tokens = append(tokens, f)
			}
		}
		for _, t := range tokens {
			attr, typ, _ := strings.Cut(t, ":")
			spec, err := parseAttrType(typ)
			if err != nil {
				return nil, fmt.Errorf("line %d: attribute %s: %w", n+1, attr, err)
			}
			if strings.HasPrefix(attr, "!") {
				attr, spec.required = attr[1:], true
				e.required = append(e.required, attr)
			}
			e.attrs[attr] = spec
		}
		if level == 0 {
			if root != nil {
				return nil, fmt.Errorf("line %d: second root", n+1)
			}
			root = e
			stack = []*elemSpec{e}
			continue
		}
		if level > len(stack) {
			return nil, fmt.Errorf("line %d: indented too far", n+1)
		}
		stack = stack[:level]
		parent := stack[level-1]
		parent.children = append(parent.children, e)
		stack = append(stack, e)
		switch {
		case level == 1 && name == "body":
			body = e
		case level == 1 && name == "worldbody":
			worldbody = e
		case level == 2 && (name == "frame" || name == "replicate") && parent == body:
			e.shareBody = true
		}
	}
	if root == nil || body == nil || worldbody == nil {
		return nil, fmt.Errorf("table lacks mujoco, body or worldbody")
	}
	// worldbody is validated against body's row (attributes and children).
	// body stays a child of <mujoco>, as does frame and replicate: MuJoCo's
	// schema admits them there (mjXSchema::NameMatch) and its reader then
	// ignores them.
	var recurse func(e *elemSpec)
	seen := map[*elemSpec]bool{}
	recurse = func(e *elemSpec) {
		if seen[e] {
			return
		}
		seen[e] = true
		for _, c := range e.children {
			recurse(c)
		}
		if e.card == 'R' && !e.shareBody {
			e.children = append(e.children, e)
		}
	}
	recurse(body)
	recurse(root)
	for _, c := range body.children {
		if c.shareBody {
			c.children = body.children
		}
	}
	worldbody.attrs, worldbody.required = body.attrs, body.required
	worldbody.children = body.children
	worldbody.card = '*'
	for _, c := range body.children {
		switch {
		case c.shareBody && c.name == "frame":
			root.children = append(root.children, c)
		case c.shareBody: // a top-level replicate is checked against body's row
			root.children = append(root.children, &elemSpec{name: c.name, card: '*', attrs: body.attrs, required: body.required, children: body.children})
		}
	}
	return root, nil
}

func parseAttrType(typ string) (attrSpec, error) {
	if typ == "" {
		return attrSpec{kind: kindText}, nil
	}
	if m, ok := keywordMacros[typ]; ok {
		typ = m
	}
	if strings.Contains(typ, "|") {
		return attrSpec{kind: kindKeyword, keywords: strings.Split(typ, "|")}, nil
	}
	switch typ {
	case "b":
		return attrSpec{kind: kindKeyword, keywords: []string{"false", "true"}}, nil
	case "q":
		return attrSpec{kind: kindReal, min: 4, max: 4, quat: true}, nil
	}
	var s attrSpec
	switch typ[0] {
	case 'r':
		s.kind = kindReal
	case 'i':
		s.kind = kindInt
	default:
		return s, fmt.Errorf("unknown type %q", typ)
	}
	count := typ[1:]
	switch {
	case count == "":
		s.min, s.max = 1, 1
	case count == "*":
		s.min, s.max = 0, -1
	case strings.Contains(count, "-"):
		a, b, _ := strings.Cut(count, "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil {
			return s, fmt.Errorf("bad count %q", count)
		}
		s.min, s.max = lo, hi
	default:
		k, err := strconv.Atoi(count)
		if err != nil {
			return s, fmt.Errorf("bad count %q", count)
		}
		s.min, s.max = k, k
	}
	return s, nil
}
