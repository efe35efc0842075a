package prcomment

import (
	"fmt"
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

const previewDev = "Previewing update (dev):\n" +
	"     Type                              Name          Plan       Info\n" +
	" +   pulumi:pulumi:Stack               sluice-dev    create\n" +
	" +   ├─ azure-native:resources:ResourceGroup rg      create\n" +
	" ~   ├─ azure-native:storage:StorageAccount  sa      update     [diff: ~tags]\n" +
	" +-  └─ azure-native:network:VirtualNetwork  vnet    replace    [diff: ~addressSpace]\n" +
	"\n" +
	"Resources:\n" +
	"    + 2 to create\n" +
	"    ~ 1 to update\n" +
	"    +-1 to replace\n" +
	"    4 changes. 7 unchanged\n"

func TestParseSummary(t *testing.T) {
	s := ParseSummary("\x1b[1mResources:\x1b[0m\r\n    \x1b[32m+ 2 to create\x1b[0m\r\n    - 3 to delete\n    ++1 to create-replacement\n    12 unchanged\n    1 errored\n\nDuration: 3s\n")
	if !s.Parsed || s.Changes["create"] != 2 || s.Changes["delete"] != 3 || s.Changes["create-replacement"] != 1 || s.Unchanged != 12 || s.Errored != 1 {
		t.Fatalf("summary = %+v", s)
	}
	d := ParseSummary(previewDev)
	if d.Changes["create"] != 2 || d.Changes["update"] != 1 || d.Changes["replace"] != 1 || d.Unchanged != 7 {
		t.Fatalf("dev summary = %+v", d)
	}
	if got := d.changesText(); got != "+2 create · ~1 update · ±1 replace" {
		t.Fatalf("changes text %q", got)
	}
	if ParseSummary("error: could not load plugin\n").Parsed {
		t.Fatal("parsed a summary that is not there")
	}
	if got := ParseSummary("Resources:\n    3 unchanged\n").changesText(); got != "no changes" {
		t.Fatalf("no-op text %q", got)
	}
}

func TestBuildSmall(t *testing.T) {
	body, err := Build(Options{Commit: "0123456789abcdef0123", RunURL: "https://github.invalid/run/1"}, []Result{
		{Stack: "dev", Output: previewDev},
		{Stack: "prod", ExitCode: 255, Output: "error: failed to load program\n"},
		{Stack: "staging", Skipped: "not affected | by this change"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body, Marker+"\n") {
		t.Fatalf("body does not start with the marker:\n%s", body)
	}
	for _, want := range []string{
		"Commit `0123456789ab`",
		"| `dev` | ✅ succeeded | +2 create · ~1 update · ±1 replace | 7 |",
		"| `prod` | ❌ failed (exit 255) | see output |  |",
		"| `staging` | ⏭️ skipped: not affected \\| by this change |  |  |",
		"<details><summary><code>dev</code>: full output (12 lines)</summary>",
		"error: failed to load program",
		"[Workflow run](https://github.invalid/run/1)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "cut here") || strings.Contains(body, "[!NOTE]") {
		t.Fatalf("small body was truncated:\n%s", body)
	}
	if strings.Contains(body, "<code>staging</code>") {
		t.Fatal("skipped stack got an output section")
	}
	checkFences(t, body, 2)
}

func TestBuildRejects(t *testing.T) {
	ok := []Result{{Stack: "dev", Output: "x"}}
	if _, err := Build(Options{}, nil); err == nil {
		t.Error("no results accepted")
	}
	if _, err := Build(Options{MaxSize: GitHubLimit + 1}, ok); err == nil {
		t.Error("max size above GitHub's limit accepted")
	}
	if _, err := Build(Options{Marker: "sluice"}, ok); err == nil {
		t.Error("marker that is not an html comment accepted")
	}
	if _, err := Build(Options{}, []Result{{Stack: "dev`|x"}}); err == nil {
		t.Error("bad stack name accepted")
	}
	if _, err := Build(Options{}, []Result{{Stack: "dev"}, {Stack: "dev"}}); err == nil {
		t.Error("duplicate stack accepted")
	}
	if _, err := Build(Options{MaxSize: 50}, ok); err == nil {
		t.Error("limit smaller than the summary accepted")
	}
}

// bigOutput makes a preview output of about n bytes with multi-byte runes,
// backtick runs longer than a plain fence, and recognisable first and last lines.
func bigOutput(stack string, n int, rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString("FIRST LINE of " + stack + "\n")
	pieces := []string{"résumé ", "日本語 ", "😀 ", "`````` ", "+ create ", "~ update ", "\"quoted\" ", "x"}
	for b.Len() < n {
		b.WriteString(pieces[rng.Intn(len(pieces))])
		if rng.Intn(12) == 0 {
			b.WriteString("\n")
		}
		if rng.Intn(400) == 0 {
			// A very long line with no newline at all.
			b.WriteString(strings.Repeat("é", 3000))
		}
	}
	b.WriteString("\nLAST LINE of " + stack)
	return b.String()
}

func TestBuildTruncates(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 40; round++ {
		n := 1 + rng.Intn(6)
		var results []Result
		total := 0
		for i := 0; i < n; i++ {
			size := rng.Intn(60000)
			if i == 0 {
				size = 30000 + rng.Intn(200000)
			}
			out := bigOutput(fmt.Sprintf("stack-%d", i), size, rng)
			total += len(out)
			results = append(results, Result{Stack: fmt.Sprintf("review-pr%d", i), ExitCode: i % 2, Output: out})
		}
		limit := DefaultMaxSize
		if round%3 == 1 {
			limit = 8000 + rng.Intn(20000)
		}
		body, err := Build(Options{MaxSize: limit, RunURL: "https://github.invalid/run/2"}, results)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if Size(body) > limit || len([]rune(body)) > GitHubLimit {
			t.Fatalf("round %d: size %d over limit %d", round, Size(body), limit)
		}
		if !utf8.ValidString(body) {
			t.Fatalf("round %d: invalid UTF-8", round)
		}
		if !strings.HasPrefix(body, Marker) {
			t.Fatalf("round %d: marker missing", round)
		}
		sections := strings.Count(body, "<details>") - strings.Count(body, "Output left out")
		checkFences(t, body, sections)
		for i := range results {
			if !strings.Contains(body, fmt.Sprintf("| `review-pr%d` |", i)) {
				t.Fatalf("round %d: table row %d missing", round, i)
			}
		}
		if total > limit {
			if !strings.Contains(body, "[!NOTE]") {
				t.Fatalf("round %d: truncated without the note", round)
			}
			if !regexp.MustCompile(`\[… \d+ lines \(\d+ bytes\) cut here`).MatchString(body) && !strings.Contains(body, "Output left out") {
				t.Fatalf("round %d: no cut marker", round)
			}
		}
		// A stack whose output is shown (cut or not) keeps its first and last lines.
		for i := range results {
			if strings.Contains(body, fmt.Sprintf("FIRST LINE of stack-%d", i)) != strings.Contains(body, fmt.Sprintf("LAST LINE of stack-%d", i)) {
				t.Fatalf("round %d: stack %d lost its head or its tail", round, i)
			}
		}
	}
}

// The first stack's huge output must not crowd out the small ones.
func TestBuildSharesFairly(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	results := []Result{
		{Stack: "dev", Output: bigOutput("big", 500000, rng)},
		{Stack: "staging", Output: "small staging output\n" + previewDev},
		{Stack: "prod", Output: "small prod output\n" + previewDev},
	}
	body, err := Build(Options{}, results)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"small staging output", "small prod output", "FIRST LINE of big", "LAST LINE of big", "cut here"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if Size(body) > DefaultMaxSize || Size(body) < DefaultMaxSize-4500 {
		t.Fatalf("body size %d does not use the room well (limit %d)", Size(body), DefaultMaxSize)
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("line é😀\n", 5000)
	for _, limit := range []int{0, 10, 100, 101, 150, 333, 1000, 4096, 40000} {
		got := Truncate(s, limit)
		if Size(got) > limit {
			t.Fatalf("limit %d: size %d", limit, Size(got))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("limit %d: split a rune", limit)
		}
		if got == "" {
			continue
		}
		m := regexp.MustCompile(`\[… (\d+) lines \((\d+) bytes\) cut here`).FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("limit %d: no cut note in %q", limit, got)
		}
		var lines, cutBytes int
		fmt.Sscan(m[1], &lines)
		fmt.Sscan(m[2], &cutBytes)
		at := strings.Index(got, "[…")
		noteLen := strings.IndexByte(got[at:], '\n') + 1
		head, tail := got[:at], got[at+noteLen:]
		if !strings.HasPrefix(s, head) {
			// Cut inside a line: the head got a newline of its own.
			head = strings.TrimSuffix(head, "\n")
		}
		if !strings.HasPrefix(s, head) || !strings.HasSuffix(s, tail) || len(head)+cutBytes+len(tail) != len(s) {
			t.Fatalf("limit %d: head %d + cut %d + tail %d != %d", limit, len(head), cutBytes, len(tail), len(s))
		}
		if strings.Count(s[len(head):len(s)-len(tail)], "\n") != lines {
			t.Fatalf("limit %d: note says %d lines cut", limit, lines)
		}
		// Cuts fall on line boundaries when lines are short.
		if limit >= 1000 && !strings.HasPrefix(got[strings.Index(got, "\n[…")+1:], "[…") {
			t.Fatalf("limit %d: note not on its own line", limit)
		}
	}
	if got := Truncate("short", 100); got != "short" {
		t.Fatalf("short text changed: %q", got)
	}
	// One long line of multi-byte runes: the cut lands between runes.
	long := strings.Repeat("😀", 10000)
	got := Truncate(long, 2000)
	if Size(got) > 2000 || !utf8.ValidString(got) || !strings.Contains(got, "cut here") {
		t.Fatalf("long line cut badly: size %d valid %v", Size(got), utf8.ValidString(got))
	}
}

func TestFenceOutlastsBackticks(t *testing.T) {
	out := "before\n````````\n```\nafter\n"
	body, err := Build(Options{}, []Result{{Stack: "dev", Output: out}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "`````````diff\n") {
		t.Fatalf("fence not longer than the content's backtick runs:\n%s", body)
	}
	checkFences(t, body, 1)
}

// checkFences parses code fences as CommonMark does (a fence closes only with at
// least as many backticks) and checks that exactly want blocks open and all close.
func checkFences(t *testing.T, body string, want int) {
	t.Helper()
	open := regexp.MustCompile("^(`{3,})[^`]*$")
	opened, fence := 0, ""
	for _, line := range strings.Split(body, "\n") {
		if fence == "" {
			if m := open.FindStringSubmatch(line); m != nil {
				fence = m[1]
				opened++
			}
			continue
		}
		trimmed := strings.TrimRight(line, " ")
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`") == "" {
			fence = ""
		}
	}
	if fence != "" {
		t.Fatalf("unclosed code fence %q", fence)
	}
	if opened != want {
		t.Fatalf("%d code blocks, want %d", opened, want)
	}
}
