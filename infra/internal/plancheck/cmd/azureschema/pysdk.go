package main

import (
	"archive/zip"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/infra/internal/plancheck"
)

// sdk is one unpacked pulumi-azure-native Python SDK wheel: the source of
// every generated Python module, by path inside the wheel.
type sdk struct {
	name string
	// version is the provider version of the wheel.
	version string
	files   map[string]string
	// tokens maps a resource type token to its module directory and the
	// file declaring it.
	tokens map[string]string
}

var (
	tokenRe         = regexp.MustCompile(`__init__\(\s*'(azure-native:[^']+)'`)
	argsRe          = regexp.MustCompile(`(?m)^class (\w+Args):\s*$`)
	getterRe        = regexp.MustCompile(`@pulumi\.getter(?:\(name="(\w+)"\))?\s*\n\s*def (\w+)\(self\) -> (.+):\s*\n`)
	enumRe          = regexp.MustCompile(`(?m)^class (\w+)\((?:_?builtins\.)?str, Enum\):\s*$`)
	valueRe         = regexp.MustCompile(`(?m)^    [A-Z0-9_]+ = "([^"]*)"\s*$`)
	moduleVersionRe = regexp.MustCompile(`/v(\d{4})(\d{2})(\d{2})((?:preview)?):`)
	versionRe       = regexp.MustCompile(`Azure REST API version:? (\d{4}-\d{2}-\d{2}(?:-preview)?)`)
)

func openWheel(file string) (*sdk, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("open wheel: %w", err)
	}
	defer zr.Close()
	s := &sdk{name: path.Base(file), files: map[string]string{}, tokens: map[string]string{}}
	if parts := strings.Split(s.name, "-"); len(parts) > 1 {
		s.version = parts[1]
	}
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "pulumi_azure_native/") || !strings.HasSuffix(f.Name, ".py") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name, err)
		}
		name := strings.TrimPrefix(f.Name, "pulumi_azure_native/")
		src := string(b)
		s.files[name] = src
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || strings.HasPrefix(base, "get_") || strings.HasPrefix(base, "list_") {
			continue
		}
		if m := tokenRe.FindStringSubmatch(src); m != nil {
			s.tokens[m[1]] = name
		}
	}
	return s, nil
}

// block returns the body of the top-level class declared at index i.
func block(src string, i int) string {
	rest := src[i:]
	nl := strings.Index(rest, "\n")
	if nl < 0 {
		return rest
	}
	body := rest[nl+1:]
	lines := strings.SplitAfter(body, "\n")
	n := 0
	for _, l := range lines {
		if len(l) > 0 && l[0] != ' ' && l[0] != '\n' && l[0] != '\t' {
			break
		}
		n += len(l)
	}
	return body[:n]
}

// builder collects the reachable subset.
type builder struct {
	sdk    *sdk
	schema *plancheck.Schema
	// enumsOf caches the enum names of a module.
	enumsOf map[string]map[string][]string
	missing []string
}

func (b *builder) resource(token string) error {
	file, ok := b.sdk.tokens[token]
	if !ok {
		return fmt.Errorf("%s: not in %s", token, b.sdk.name)
	}
	src := b.sdk.files[file]
	mod := path.Dir(file)
	m := argsRe.FindStringSubmatchIndex(src)
	if m == nil {
		return fmt.Errorf("%s: no Args class in %s", token, file)
	}
	obj, err := b.object(mod, block(src, m[0]))
	if err != nil {
		return fmt.Errorf("%s: %w", token, err)
	}
	if v := versionRe.FindStringSubmatch(src); v != nil {
		obj.APIVersion = v[1]
	}
	if m := moduleVersionRe.FindStringSubmatch(token); obj.APIVersion == "" && m != nil {
		// A versioned module is its API version: cache/v20250401.
		obj.APIVersion = m[1] + "-" + m[2] + "-" + m[3] + m[4]
	}
	obj.Provider = b.sdk.version
	b.schema.Resources[token] = obj
	return nil
}

func (b *builder) object(mod, body string) (*plancheck.Object, error) {
	obj := &plancheck.Object{Properties: map[string]*plancheck.Type{}}
	for _, g := range getterRe.FindAllStringSubmatch(body, -1) {
		wire := g[1]
		if wire == "" {
			wire = g[2]
		}
		ann := strings.TrimSpace(g[3])
		t, optional, err := b.annotation(mod, ann)
		if err != nil {
			return nil, fmt.Errorf("property %s (%s): %w", wire, ann, err)
		}
		obj.Properties[wire] = t
		if !optional {
			obj.Required = append(obj.Required, wire)
		}
	}
	sort.Strings(obj.Required)
	return obj, nil
}

// typeRef adds a nested Args type of module mod and returns its key.
func (b *builder) typeRef(mod, name string) (string, error) {
	key := mod + ":" + name
	if _, done := b.schema.Types[key]; done {
		return key, nil
	}
	src, ok := b.sdk.files[mod+"/_inputs.py"]
	if !ok {
		return "", fmt.Errorf("module %s has no _inputs.py", mod)
	}
	re := regexp.MustCompile(`(?m)^class ` + regexp.QuoteMeta(name) + `:\s*$`)
	loc := re.FindStringIndex(src)
	if loc == nil {
		return "", fmt.Errorf("type %s not in %s/_inputs.py", name, mod)
	}
	b.schema.Types[key] = &plancheck.Object{} // cycle guard
	obj, err := b.object(mod, block(src, loc[0]))
	if err != nil {
		return "", fmt.Errorf("type %s: %w", name, err)
	}
	b.schema.Types[key] = obj
	return key, nil
}

func (b *builder) enum(mod, name string) (string, bool) {
	if b.enumsOf == nil {
		b.enumsOf = map[string]map[string][]string{}
	}
	enums, ok := b.enumsOf[mod]
	if !ok {
		enums = map[string][]string{}
		src := b.sdk.files[mod+"/_enums.py"]
		for _, m := range enumRe.FindAllStringSubmatchIndex(src, -1) {
			name := src[m[2]:m[3]]
			for _, v := range valueRe.FindAllStringSubmatch(block(src, m[0]), -1) {
				enums[name] = append(enums[name], v[1])
			}
		}
		b.enumsOf[mod] = enums
	}
	values, ok := enums[name]
	if !ok {
		return "", false
	}
	key := mod + ":" + name
	b.schema.Enums[key] = values
	return key, true
}

// annotation parses a Python type annotation of the SDK.
func (b *builder) annotation(mod, ann string) (*plancheck.Type, bool, error) {
	p := &annParser{toks: tokenize(ann)}
	n, err := p.parse()
	if err != nil {
		return nil, false, err
	}
	optional := false
	t, err := b.convert(mod, n, &optional)
	return t, optional, err
}

func (b *builder) convert(mod string, n *annNode, optional *bool) (*plancheck.Type, error) {
	name := strings.TrimPrefix(strings.TrimPrefix(n.name, "_builtins."), "builtins.")
	switch {
	case n.quoted:
		if strings.HasSuffix(name, "ArgsDict") {
			return nil, nil
		}
		if strings.Contains(name, ".") {
			// A type of another module ('_network.SubnetArgs'): resolve
			// it relative to the package root.
			i := strings.LastIndex(name, ".")
			other := strings.ReplaceAll(strings.TrimPrefix(name[:i], "_"), ".", "/")
			mod, name = other, name[i+1:]
		}
		if key, ok := b.enum(mod, name); ok {
			return &plancheck.Type{Kind: "string", Enum: key, Strict: true}, nil
		}
		if strings.HasSuffix(name, "Args") {
			key, err := b.typeRef(mod, name)
			if err != nil {
				return nil, err
			}
			return &plancheck.Type{Kind: "object", Ref: key}, nil
		}
		return nil, fmt.Errorf("unknown quoted type %q", n.name)
	case name == "Optional":
		*optional = true
		return b.convert(mod, n.args[0], optional)
	case name == "pulumi.Input" || name == "pulumi.InputType":
		return b.convert(mod, n.args[0], optional)
	case name == "str":
		return &plancheck.Type{Kind: "string"}, nil
	case name == "int":
		return &plancheck.Type{Kind: "integer"}, nil
	case name == "float":
		return &plancheck.Type{Kind: "number"}, nil
	case name == "bool":
		return &plancheck.Type{Kind: "boolean"}, nil
	case name == "Any":
		return &plancheck.Type{Kind: "any"}, nil
	case name == "Sequence":
		var ignore bool
		e, err := b.convert(mod, n.args[0], &ignore)
		if err != nil {
			return nil, err
		}
		return &plancheck.Type{Kind: "array", Items: e}, nil
	case name == "Mapping":
		var ignore bool
		e, err := b.convert(mod, n.args[1], &ignore)
		if err != nil {
			return nil, err
		}
		return &plancheck.Type{Kind: "map", Items: e}, nil
	case name == "Union":
		var alts []*plancheck.Type
		hasString := false
		for _, a := range n.args {
			var ignore bool
			t, err := b.convert(mod, a, &ignore)
			if err != nil {
				return nil, err
			}
			if t == nil {
				continue
			}
			if t.Kind == "string" && t.Enum == "" {
				hasString = true
				continue
			}
			alts = append(alts, t)
		}
		// Union[str, 'Enum']: any string, the enum's values expected.
		if len(alts) == 1 && alts[0].Enum != "" {
			alts[0].Strict = !hasString
			return alts[0], nil
		}
		if hasString && len(alts) == 0 {
			return &plancheck.Type{Kind: "string"}, nil
		}
		if len(alts) == 1 && !hasString {
			return alts[0], nil
		}
		if hasString {
			alts = append(alts, &plancheck.Type{Kind: "string"})
		}
		return &plancheck.Type{Kind: "any", OneOf: alts}, nil
	}
	return nil, fmt.Errorf("unknown type %q", n.name)
}

type annNode struct {
	name   string
	quoted bool
	args   []*annNode
}

func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '[' || c == ']' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				toks = append(toks, s[i:])
				return toks
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" [],", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

type annParser struct {
	toks []string
	pos  int
}

func (p *annParser) parse() (*annNode, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("annotation ends early")
	}
	t := p.toks[p.pos]
	p.pos++
	n := &annNode{name: t}
	if strings.HasPrefix(t, "'") || strings.HasPrefix(t, `"`) {
		n.name, n.quoted = t[1:len(t)-1], true
		return n, nil
	}
	if p.pos < len(p.toks) && p.toks[p.pos] == "[" {
		p.pos++
		for {
			a, err := p.parse()
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, a)
			if p.pos >= len(p.toks) {
				return nil, fmt.Errorf("unclosed [")
			}
			sep := p.toks[p.pos]
			p.pos++
			if sep == "]" {
				break
			}
			if sep != "," {
				return nil, fmt.Errorf("unexpected %q", sep)
			}
		}
	}
	return n, nil
}
