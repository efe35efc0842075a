// Package prcomment builds the one pull-request comment that reports `pulumi
// preview` for every affected stack.
//
// The body always starts with a hidden HTML marker (Marker) so a workflow can find
// and update its own earlier comment instead of adding a new one, followed by a
// summary table (one row per stack: result and resource change counts parsed from
// the CLI's "Resources:" block). The full output of each stack follows in a
// collapsed <details> block.
//
// GitHub rejects comment bodies over 65,536 characters. Build keeps the body under
// Options.MaxSize measured by Size, which never undercounts GitHub's count: it
// counts bytes (a character is at least one byte) and every newline twice (in
// case it is stored as CRLF). When the outputs do not fit, the space left after the
// table is shared fairly between the stacks, and each cut output keeps its head
// and its tail (where errors are printed) around a line that says how many lines
// and bytes were cut. Cuts fall on line boundaries where possible and never inside
// a UTF-8 sequence, and every code fence is longer than any backtick run in the
// text it fences, so a cut can never leave a fence open.
// Affected picks the stacks a pull request's changed files touch, so the workflow
// previews only those.
package prcomment
