package prcomment

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marker identifies the preview comment among a pull request's comments.
const Marker = "<!-- sluice:pulumi-preview -->"

// GitHubLimit is the largest comment body GitHub accepts, in characters.
const GitHubLimit = 65536

// DefaultMaxSize leaves a margin below GitHubLimit.
const DefaultMaxSize = 65000

// minSection is the least room worth giving a cut output; below it the output is
// left out with a note instead.
const minSection = 400

// Result is the outcome of one stack's preview.
type Result struct {
	Stack string
	// ExitCode of `pulumi preview`; ignored when Skipped is set.
	ExitCode int
	// Skipped, when not empty, says why the stack was not previewed.
	Skipped string
	// Output is everything the CLI printed.
	Output string
}

// Options shape the comment.
type Options struct {
	// Marker defaults to the package Marker.
	Marker string
	// Title defaults to "Pulumi preview".
	Title string
	// Commit and RunURL, when set, are linked under the title.
	Commit string
	RunURL string
	// MaxSize bounds Size(body); defaults to DefaultMaxSize and may not exceed GitHubLimit.
	MaxSize int
}

// Summary holds the resource change counts of one preview.
type Summary struct {
	// Parsed is false when the output had no "Resources:" block.
	Parsed    bool
	Changes   map[string]int // by operation: create, update, delete, replace, ...
	Unchanged int
	Errored   int
}

// Size measures text the way Build budgets it: bytes, with every newline counted
// twice.
func Size(s string) int { return len(s) + strings.Count(s, "\n") }

var (
	ansiRE     = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]")
	opLineRE   = regexp.MustCompile(`^\s*(?:[-+~=<>*!]{1,2}\s*)?(\d+) to ([a-z][a-z-]*)\s*$`)
	sameRE     = regexp.MustCompile(`(\d+) unchanged`)
	erroredRE  = regexp.MustCompile(`^\s*(\d+) errored\s*$`)
	stackOKRE  = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)
	backtickRE = regexp.MustCompile("`+")
)

// Clean strips terminal colour codes and replaces invalid UTF-8.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansiRE.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// ParseSummary reads the last "Resources:" block of a preview's output.
func ParseSummary(output string) Summary {
	lines := strings.Split(Clean(output), "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == "Resources:" {
			start = i
		}
	}
	sum := Summary{Changes: map[string]int{}}
	if start < 0 {
		return sum
	}
	sum.Parsed = true
	for _, l := range lines[start+1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		if m := opLineRE.FindStringSubmatch(l); m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil {
				sum.Changes[m[2]] += n
			}
			continue
		}
		if m := erroredRE.FindStringSubmatch(l); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				sum.Errored = n
			}
			continue
		}
		if m := sameRE.FindStringSubmatch(l); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				sum.Unchanged = n
			}
		}
	}
	return sum
}

// opOrder and opSymbol decide how change counts read in the table.
var opOrder = []string{"create", "update", "replace", "delete"}

var opSymbol = map[string]string{"create": "+", "update": "~", "replace": "±", "delete": "-"}

func (s Summary) changesText() string {
	if !s.Parsed {
		return "see output"
	}
	var parts []string
	seen := map[string]bool{}
	for _, op := range opOrder {
		if n := s.Changes[op]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s%d %s", opSymbol[op], n, op))
		}
		seen[op] = true
	}
	var rest []string
	for op := range s.Changes {
		if !seen[op] && s.Changes[op] > 0 {
			rest = append(rest, op)
		}
	}
	sort.Strings(rest)
	for _, op := range rest {
		parts = append(parts, fmt.Sprintf("%d %s", s.Changes[op], op))
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, " · ")
}

// Build renders the comment body.
func Build(opts Options, results []Result) (string, error) {
	if opts.Marker == "" {
		opts.Marker = Marker
	}
	if !strings.HasPrefix(opts.Marker, "<!--") || !strings.HasSuffix(opts.Marker, "-->") || strings.Contains(opts.Marker, "\n") {
		return "", fmt.Errorf("marker %q is not a one-line html comment", opts.Marker)
	}
	if opts.Title == "" {
		opts.Title = "Pulumi preview"
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxSize < 0 || opts.MaxSize > GitHubLimit {
		return "", fmt.Errorf("max size %d is outside 1..%d", opts.MaxSize, GitHubLimit)
	}
	if len(results) == 0 {
		return "", errors.New("no stack results")
	}
	seen := map[string]bool{}
	for _, r := range results {
		if !stackOKRE.MatchString(r.Stack) {
			return "", fmt.Errorf("stack name %q is not a valid stack name", r.Stack)
		}
		if seen[r.Stack] {
			return "", fmt.Errorf("stack %s reported twice", r.Stack)
		}
		seen[r.Stack] = true
	}

	head := header(opts, results)
	sections := make([]section, 0, len(results))
	for _, r := range results {
		if r.Skipped != "" {
			continue
		}
		out := strings.TrimRight(Clean(r.Output), "\n")
		if out == "" {
			continue
		}
		sections = append(sections, newSection(r.Stack, out))
	}

	const truncNote = "\n> [!NOTE]\n> Output was cut to fit GitHub's comment size limit; each cut is marked in place. " +
		"The complete output is in the workflow run's log.\n"
	footer := ""
	if opts.RunURL != "" {
		footer = fmt.Sprintf("\n[Workflow run](%s)\n", opts.RunURL)
	}

	full := head + joinSections(sections) + footer
	if Size(full) <= opts.MaxSize {
		return full, nil
	}

	fixed := Size(head) + Size(truncNote) + Size(footer)
	for i := range sections {
		fixed += sections[i].overhead()
	}
	if fixed > opts.MaxSize {
		// Not even the frames fit: keep the table and drop every output.
		for i := range sections {
			sections[i].omit()
		}
		body := head + joinSections(sections) + truncNote + footer
		if Size(body) > opts.MaxSize {
			return "", fmt.Errorf("summary alone needs %d of %d allowed characters", Size(head), opts.MaxSize)
		}
		return body, nil
	}
	allot(sections, opts.MaxSize-fixed)
	body := head + joinSections(sections) + truncNote + footer
	if Size(body) > opts.MaxSize {
		return "", fmt.Errorf("internal error: body size %d exceeds %d", Size(body), opts.MaxSize)
	}
	return body, nil
}

func header(opts Options, results []Result) string {
	var b strings.Builder
	b.WriteString(opts.Marker + "\n")
	b.WriteString("### " + escapeCell(opts.Title) + "\n\n")
	if opts.Commit != "" {
		c := opts.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		b.WriteString("Commit `" + strings.ReplaceAll(c, "`", "") + "`\n\n")
	}
	b.WriteString("| Stack | Result | Changes | Unchanged |\n|---|---|---|---:|\n")
	for _, r := range results {
		sum := ParseSummary(r.Output)
		var result, changes, unchanged string
		switch {
		case r.Skipped != "":
			result, changes, unchanged = "⏭️ skipped: "+escapeCell(r.Skipped), "", ""
		case r.ExitCode != 0:
			result = fmt.Sprintf("❌ failed (exit %d)", r.ExitCode)
			changes = sum.changesText()
		default:
			result = "✅ succeeded"
			changes = sum.changesText()
		}
		if r.Skipped == "" && sum.Parsed {
			unchanged = strconv.Itoa(sum.Unchanged)
			if sum.Errored > 0 {
				changes += fmt.Sprintf(" · %d errored", sum.Errored)
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.Stack, result, changes, unchanged)
	}
	return b.String()
}

func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return s
}

// section is one stack's collapsed output.
type section struct {
	stack   string
	full    string
	body    string // what is shown: full, cut, or empty when omitted
	fence   string
	lines   int
	omitted bool
}

func newSection(stack, out string) section {
	longest := 0
	for _, run := range backtickRE.FindAllString(out, -1) {
		longest = max(longest, len(run))
	}
	return section{
		stack: stack,
		full:  out,
		body:  out,
		fence: strings.Repeat("`", max(3, longest+1)),
		lines: strings.Count(out, "\n") + 1,
	}
}

func (s *section) frame(body string) string {
	summary := fmt.Sprintf("<details><summary><code>%s</code>: full output (%d lines)</summary>\n\n", s.stack, s.lines)
	if s.omitted {
		return summary + "_Output left out to fit GitHub's comment size limit._\n\n</details>\n"
	}
	return summary + s.fence + "diff\n" + body + "\n" + s.fence + "\n\n</details>\n"
}

func (s *section) render() string { return s.frame(s.body) }

// overhead is the size of the frame without the output; it bounds the size of the
// "left out" frame too.
func (s *section) overhead() int {
	return max(Size(s.frame("")), Size((&section{stack: s.stack, lines: s.lines, omitted: true}).frame("")))
}

func (s *section) omit() {
	s.omitted = true
	s.body = ""
}

func joinSections(ss []section) string {
	if len(ss) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n")
	for i := range ss {
		b.WriteString(ss[i].render())
	}
	return b.String()
}

// allot shares budget between the sections' outputs: the smallest outputs are
// shown whole and the rest share what is left equally (water filling).
func allot(ss []section, budget int) {
	order := make([]int, len(ss))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return Size(ss[order[a]].full) < Size(ss[order[b]].full) })
	left := budget
	for k, i := range order {
		share := left / (len(order) - k)
		size := Size(ss[i].full)
		if size <= share {
			left -= size
			continue
		}
		if share < minSection {
			ss[i].omit()
			continue
		}
		cut := Truncate(ss[i].full, share)
		ss[i].body = cut
		left -= Size(cut)
	}
}

// Truncate returns s unchanged when Size(s) <= limit; otherwise the head and the
// tail of s (about two thirds and one third of the room) around one line saying
// what was cut, with Size at most limit. Cuts fall on line boundaries when one is
// near, and never inside a UTF-8 sequence. It returns "" when
// limit is too small for the cut line itself.
func Truncate(s string, limit int) string {
	if Size(s) <= limit {
		return s
	}
	totalLines := strings.Count(s, "\n") + 1
	// The note's size with the largest numbers it can hold bounds the real note.
	room := limit - Size(cutNote(totalLines, len(s)))
	if room <= 0 {
		return ""
	}
	headRoom := room * 2 / 3
	tailRoom := room - headRoom

	// The head ends with a newline so the note starts on its own line: either the
	// last newline inside the head's room, or an added one (two units reserved).
	// A cut moves to a line boundary only when that costs little (snapRoom), so one
	// very long line does not waste the space.
	head := ""
	headEnd := prefixWithin(s, headRoom)
	if i := strings.LastIndexByte(s[:headEnd], '\n'); i >= 0 && headEnd-(i+1) <= snapRoom(headRoom) {
		headEnd = i + 1
		head = s[:headEnd]
	} else if headEnd = prefixWithin(s, headRoom-2); headEnd > 0 {
		head = s[:headEnd] + "\n"
	}
	tailStart := max(suffixWithin(s, tailRoom), headEnd)
	if i := strings.IndexByte(s[tailStart:], '\n'); i >= 0 && i+1 <= snapRoom(tailRoom) && tailStart+i+1 < len(s) {
		tailStart += i + 1
	}
	cut := s[headEnd:tailStart]
	note := cutNote(strings.Count(cut, "\n"), len(cut))
	return head + note + s[tailStart:]
}

// snapRoom is how much of a part's room a cut may give up to end on a line boundary.
func snapRoom(room int) int { return min(room/8, 2048) }

func cutNote(lines, bytes int) string {
	return fmt.Sprintf("[… %d lines (%d bytes) cut here to fit GitHub's comment size limit …]\n", lines, bytes)
}

// prefixWithin returns the largest i at a rune boundary with Size(s[:i]) <= room.
func prefixWithin(s string, room int) int {
	used, i := 0, 0
	for i < len(s) {
		_, w := utf8.DecodeRuneInString(s[i:])
		c := w
		if s[i] == '\n' {
			c = 2
		}
		if used+c > room {
			break
		}
		used += c
		i += w
	}
	return i
}

// suffixWithin returns the smallest i at a rune boundary with Size(s[i:]) <= room.
func suffixWithin(s string, room int) int {
	used, i := 0, len(s)
	for i > 0 {
		_, w := utf8.DecodeLastRuneInString(s[:i])
		c := w
		if s[i-1] == '\n' {
			c = 2
		}
		if used+c > room {
			break
		}
		used += c
		i -= w
	}
	return i
}
