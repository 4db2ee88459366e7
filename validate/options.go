package validate

// Options tune a validation run. The zero value checks what the reference
// parsers (urdfdom, MuJoCo) check, with warnings for what they let through
// but a simulator mishandles.
type Options struct {
	// Strict turns every warning into an error.
	Strict bool
	// Target adds the checks of one simulator's importer: "isaac" (Isaac
	// Sim's URDF importer) or "mujoco" (MuJoCo's compiler, also as a URDF
	// reader). Empty: only the format's reference parser.
	Target string
	// PackagePaths are extra roots for resolving package:// (and other)
	// mesh URIs, tried after the model's own folder and its ancestors and
	// before ROS_PACKAGE_PATH.
	PackagePaths []string
	// FS is where the validators read the model and the files it names
	// (includes, meshes, textures); nil means the operating system. Use
	// Open, Stat and ReadFile, which honour it.
	FS FS
}

// The targets Options.Target accepts.
const (
	TargetIsaac  = "isaac"
	TargetMuJoCo = "mujoco"
)

// Finish applies opts to a finished report: under Strict, warnings become
// errors. Checkers call it last.
func (o Options) Finish(r Report) Report {
	r.Valid = len(r.Errors) == 0
	if o.Strict {
		return r.Strict()
	}
	return r
}
