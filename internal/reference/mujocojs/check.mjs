// check.mjs loads MJCF models in MuJoCo 3.x (the official WebAssembly build,
// npm mujoco-js) and prints one JSON line per model:
//   {"path": "<relpath>", "ok": true|false, "error": "...", "nbody": N,
//    "njnt": N, "ngeom": N, "nmesh": N, "version": "3.3.8"}
//
// Usage:
//   node check.mjs [--steps N] <dir> <relpath> [<dir> <relpath> ...]
//   node check.mjs [--steps N] -   (reads "<dir>\t<relpath>" lines from stdin)
//
// With --steps N, each model that loads is also simulated for N steps with
// zero controls; the line then adds "steps": N, "warnings": [names of the
// mjtWarning kinds raised] and "finite": whether qpos and qvel stayed
// finite.
//
// Each <dir> is copied whole into the in-memory file system (once per
// process), so meshes, textures and includes resolve as they would on disk;
// <relpath> is the model file inside it. Every copy gets file times of its
// own (see stampOf), so MuJoCo's asset cache never hands one folder's mesh
// to another folder's model. The exit code is 0 when every line was printed
// (whatever the verdicts), 2 on a usage or harness failure, and 3 after a
// model aborted the WebAssembly module (its line is printed; the models
// after it are not).
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

// The module does not export its WebAssembly memory, and MuJoCo's error
// types (mjXError, mjCError) are not std::exceptions, so Emscripten's
// getExceptionMessage only yields their type name. Their first member is
// the C string message (char message[...]): keep a handle on the memory by
// wrapping WebAssembly.instantiate before the module loads, and read the
// message at the thrown object's pointer.
let memory = null;
for (const fn of ['instantiate', 'instantiateStreaming']) {
  const orig = WebAssembly[fn];
  if (typeof orig !== 'function') continue;
  WebAssembly[fn] = async function (...args) {
    const res = await orig.apply(this, args);
    const inst = res instanceof WebAssembly.Instance ? res : res.instance;
    if (inst && inst.exports && inst.exports.memory) memory = inst.exports.memory;
    return res;
  };
}
const { default: loadMujoco } = await import('mujoco-js');

// cString reads the NUL-terminated string at ptr in WASM memory (at most max
// bytes).
function cString(ptr, max) {
  if (!memory || !ptr) return '';
  const heap = new Uint8Array(memory.buffer);
  if (ptr < 0 || ptr >= heap.length) return '';
  const b = heap.subarray(ptr, Math.min(ptr + max, heap.length));
  const z = b.indexOf(0);
  return new TextDecoder().decode(z < 0 ? b : b.subarray(0, z));
}

function usage(msg) {
  process.stderr.write(`check.mjs: ${msg}\nusage: node check.mjs <dir> <relpath> [...] | node check.mjs -\n`);
  process.exit(2);
}

// copyTree copies the host directory src into the in-memory FS at dst,
// setting every file's access and modification times to stamp (milliseconds),
// and returns the bytes copied. Directory symlinks are not followed (a loop
// would never end); file symlinks are.
function copyTree(FS, src, dst, stamp) {
  FS.mkdirTree(dst);
  let bytes = 0;
  for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
    if (ent.name === 'node_modules' || ent.name === '.git') continue;
    const s = path.join(src, ent.name);
    const d = dst + '/' + ent.name;
    if (ent.isDirectory()) {
      bytes += copyTree(FS, s, d, stamp);
    } else if (ent.isFile() || (ent.isSymbolicLink() && fs.statSync(s, { throwIfNoEntry: false })?.isFile())) {
      const data = fs.readFileSync(s);
      FS.writeFile(d, data);
      FS.utime(d, stamp, stamp);
      bytes += data.length;
    }
  }
  return bytes;
}

// stampOf gives the n-th folder copied in this process its file times:
// n+1 whole seconds after the epoch, one second per copy.
//
// MuJoCo keeps compiled meshes (and PNG textures) in a process-wide cache
// keyed by the resource name, and reuses an entry while the file's
// modification time, in whole seconds, equals the cached one. Models load
// by a path relative to their folder, so "assets/link1.stl" names a
// different file in every folder; copies stamped with the wall clock land
// in the same second, so a model got the mesh of an earlier folder's
// same-named file whenever the two copies fell in one second: which mesh
// depended on timing (procgen's 7-DOF arm then got the 1-DOF arm's long
// link1, 0.29 m deep in the floor, and one run in several raised
// mjWARN_BADQACC). With a second per copy, a same-named file from another
// folder always reads as modified and is compiled from its own bytes; a
// second model in the same folder still shares that folder's entries.
function stampOf(n) {
  return (n + 1) * 1000;
}

// removeTree deletes dir and everything under it from the in-memory FS.
function removeTree(FS, dir) {
  for (const name of FS.readdir(dir)) {
    if (name === '.' || name === '..') continue;
    const p = dir + '/' + name;
    if (FS.isDir(FS.stat(p).mode)) removeTree(FS, p);
    else FS.unlink(p);
  }
  FS.rmdir(dir);
}

// keepBytes bounds the folders kept copied in memory: past it, the oldest
// copies are dropped (a folder asked for again is copied again).
const keepBytes = 512 << 20;

// errorText turns whatever loadFromXML threw into MuJoCo's message. A C++
// exception arrives as a CppException (or, in builds without the wrapper,
// the bare pointer); Emscripten's getExceptionMessage names its type and,
// for std::exception types (std::bad_alloc), gives what(). MuJoCo's own
// mjXError/mjCError are not std::exceptions: their message is read from
// WASM memory at the thrown object.
function errorText(mj, e) {
  let ptr = 0;
  if (typeof e === 'number') ptr = e;
  else if (e && typeof e === 'object' && typeof e.excPtr === 'number') ptr = e.excPtr;
  if (!ptr) return e && e.message ? String(e.message) : String(e);
  let type = e && e.name ? String(e.name) : '';
  let what = e && e.message ? String(e.message) : '';
  if (!type && typeof mj.getExceptionMessage === 'function') {
    try {
      [type, what] = mj.getExceptionMessage(ptr);
    } catch (_) { /* keep what we have */ }
  }
  if (!type || /mj[XC]Error/.test(type)) {
    const msg = cString(ptr, 1000).trim();
    if (msg) return msg;
  }
  if (what) return `${type}: ${what}`;
  return `C++ exception ${type || 'of unknown type'} (message unreadable)`;
}

// warningNames are mjtWarning's values in order.
const warningNames = ['mjWARN_INERTIA', 'mjWARN_CONTACTFULL', 'mjWARN_CNSTRFULL', 'mjWARN_VGEOMFULL',
  'mjWARN_BADQPOS', 'mjWARN_BADQVEL', 'mjWARN_BADQACC', 'mjWARN_BADCTRL'];

// simulate steps a loaded model with zero controls and reports the
// warnings MuJoCo raised and whether the state stayed finite.
function simulate(mj, model, steps) {
  const data = new mj.MjData(model);
  try {
    for (let i = 0; i < steps; i++) mj.mj_step(model, data);
    const warnings = [];
    const w = data.warning;
    for (let k = 0; k < w.size() && k < warningNames.length; k++) {
      const stat = w.get(k);
      if (stat && stat.number > 0) warnings.push(`${warningNames[k]} x${stat.number}`);
      stat?.delete?.();
    }
    const finite = [...data.qpos, ...data.qvel].every(Number.isFinite);
    return { steps, warnings, finite };
  } finally {
    data.delete();
  }
}

async function main() {
  let pairs = [];
  let args = process.argv.slice(2);
  let steps = 0;
  if (args[0] === '--steps') {
    steps = Number.parseInt(args[1], 10);
    if (!(steps >= 0)) usage(`--steps needs a count, got ${JSON.stringify(args[1])}`);
    args = args.slice(2);
  }
  if (args.length === 1 && args[0] === '-') {
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      const i = line.indexOf('\t');
      if (i < 0) usage(`stdin line without a tab: ${JSON.stringify(line)}`);
      pairs.push([line.slice(0, i), line.slice(i + 1)]);
    }
  } else {
    if (args.length === 0 || args.length % 2 !== 0) usage('expected <dir> <relpath> pairs');
    for (let i = 0; i < args.length; i += 2) pairs.push([args[i], args[i + 1]]);
  }

  // Quiet the module: MuJoCo prints warnings on stdout, which is ours.
  // MuJoCo prints some errors (a null model's "Loading error: ...") instead
  // of throwing: collect what it prints during each load. Stdout is ours,
  // so the module's output goes to stderr too.
  let printed = [];
  const sink = (s) => { printed.push(String(s)); process.stderr.write(s + '\n'); };
  const mj = await loadMujoco({ print: sink, printErr: sink });
  const version = typeof mj.mj_versionString === 'function' ? mj.mj_versionString() : '';
  const mounted = new Map(); // host dir -> {fsdir, bytes}, oldest first
  let kept = 0;
  let serial = 0;
  for (const [dir, rel] of pairs) {
    const out = { path: rel, ok: false, error: '', nbody: 0, njnt: 0, ngeom: 0, nmesh: 0, version };
    try {
      const host = path.resolve(dir);
      let entry = mounted.get(host);
      if (entry === undefined) {
        mj.FS.chdir('/');
        for (const [h, e] of mounted) {
          if (kept <= keepBytes) break;
          removeTree(mj.FS, e.fsdir);
          kept -= e.bytes;
          mounted.delete(h);
        }
        entry = { fsdir: `/m${serial}`, bytes: 0 };
        mounted.set(host, entry);
        entry.bytes = copyTree(mj.FS, host, entry.fsdir, stampOf(serial));
        serial++;
        kept += entry.bytes;
      }
      const fsdir = entry.fsdir;
      // Load by a path relative to the model's folder, so messages name
      // files as the native compiler does ('assets/x.stl').
      mj.FS.chdir(fsdir);
      const file = rel.split(path.sep).join('/');
      let model;
      printed = [];
      try {
        model = mj.MjModel.loadFromXML(file);
        if (!model) {
          const said = printed.join('\n').trim();
          throw new Error(said || 'loadFromXML returned no model');
        }
        Object.assign(out, { ok: true, nbody: model.nbody, njnt: model.njnt, ngeom: model.ngeom, nmesh: model.nmesh });
        if (steps > 0) Object.assign(out, simulate(mj, model, steps));
      } catch (e) {
        out.error = errorText(mj, e);
        // An abort (out of memory, a trap) leaves the module unusable:
        // report this model, then exit 3 so the caller restarts for the
        // rest.
        if (e instanceof WebAssembly.RuntimeError || /^Aborted\(/.test(String(e && e.message))) {
          out.error = `aborted: ${out.error}`;
          process.stdout.write(JSON.stringify(out) + '\n');
          process.exit(3);
        }
      } finally {
        model?.delete?.();
      }
    } catch (e) {
      out.error = `harness: ${e && e.message ? e.message : e}`;
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(`check.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
