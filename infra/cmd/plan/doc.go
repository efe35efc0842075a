// Command plan prints the offline plan of a stack: it runs the Sluice program
// under mocks with stacks/Pulumi.<stack>.yaml (no Azure credentials needed)
// and prints every resource's type token, name, parent and inputs as a tree,
// or as JSON with -json.
//
// With -bench it instead times the mocked run (the median of -runs runs) and
// prints a table and one JSON line
// {"bench":"plan","stack":...,"resources":...,"seconds":...}.
package main
