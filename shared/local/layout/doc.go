// Package layout holds the test that keeps the repository's split honest:
// the packages a Lambda links live under functions/ and shared/ (outside
// shared/local/); the local stack, the tools' logic and the test helpers live
// under shared/local/ and never reach a Lambda. TestLambdasLinkNoLocalPackage
// lists what each function under functions/ links, built as it is deployed,
// and fails if any of it is local-only or a test helper.
package layout
