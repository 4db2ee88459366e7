// Package deptest holds the test that keeps gizmo's imports flowing one way:
// cmd wires everything; sync uses cache, formats and validate through small
// interfaces; formats and validate import neither cache nor sync; cache
// imports no sync code.
package deptest
