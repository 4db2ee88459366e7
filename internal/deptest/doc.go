// Package deptest holds the test that keeps gizmo's imports pointing down,
// floor by floor: internal/ (the ground floor) imports nothing above it;
// formats imports only internal; validate imports formats and internal;
// cache imports formats and internal; sync imports cache, formats and
// internal (never validate: validation comes in through sync.Validator);
// cmd wires everything. Inside sync, only cmd imports sync/agent, and
// sync/prepare does not. README.md's "Architecture" section draws the same
// map.
package deptest
