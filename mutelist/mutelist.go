// Package mutelist reads exceptions to the control from a YAML file and
// applies them to results: a matched result becomes MUTED, keeping its
// status underneath, with the entry's reason. Every entry must say why,
// who owns it and until when; an expired entry stops muting and is
// reported, so exceptions cannot outlive their review date unnoticed.
//
//	mutes:
//	  - accounts: ["123456789012", "2222*"]   # account ids, * and ? wildcards (default: every account)
//	    regions: ["ap-east-1", "me-*"]         # optional: only gaps in these regions
//	    trails: ["arn:aws:cloudtrail:*:*:trail/legacy-*"]  # optional: only results involving such a trail
//	    reason: sandbox accounts, closed in Q1
//	    owner: platform-team@example.com
//	    expires: 2027-03-31
package mutelist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/internal/safefile"
	"github.com/trailguard/trailguard/internal/wildcard"
)

// Entry is one exception.
type Entry struct {
	Accounts []string `yaml:"accounts"`
	Regions  []string `yaml:"regions"`
	Trails   []string `yaml:"trails"`
	Reason   string   `yaml:"reason"`
	Owner    string   `yaml:"owner"`
	Expires  string   `yaml:"expires"`

	expires time.Time // the end of the Expires day, UTC
	line    int
}

// List is a parsed mutelist.
type List struct {
	File    string
	Entries []Entry
}

// Error is a problem in the file, with where it is.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Limits on a mutelist file. A mutelist is a short hand-written list; the
// limits are far above any real one and keep a hostile or mistaken file
// (a symlink to /dev/zero, a "billion laughs" of YAML aliases, nesting
// thousands deep) from taking the memory or the time of a scan.
const (
	// MaxFileSize is the largest mutelist read, in bytes.
	MaxFileSize = 1 << 20
	// maxDepth is the deepest nesting of YAML collections accepted; a
	// mutelist needs four (document, mutes, entry, list).
	maxDepth = 32
	// maxNodes bounds the YAML nodes of the document with every alias
	// expanded where it is used: aliases may share a list of accounts
	// between entries, but not multiply the document.
	maxNodes = 100_000
	// maxPattern is the longest pattern accepted, the longest an ARN can
	// be: matching takes time proportional to the pattern's length times
	// the string's, so both factors stay bounded.
	maxPattern = 2048
)

// Load reads and checks the mutelist at path. Only a regular file (or a
// symlink to one) is read, and at most MaxFileSize bytes of it.
func Load(file string) (*List, error) {
	b, err := safefile.Read(file, MaxFileSize)
	var notRegular *safefile.NotRegularError
	var tooLarge *safefile.TooLargeError
	switch {
	case errors.As(err, &notRegular):
		return nil, &Error{File: file, Msg: "not a regular file (" + safefile.Kind(notRegular.Mode) + "): a mutelist is a YAML file"}
	case errors.As(err, &tooLarge):
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes: not read", MaxFileSize)}
	case err != nil:
		return nil, err
	}
	return Parse(file, b)
}

// Parse checks a mutelist document; file names it in errors. The document
// is first read as a YAML node tree (which expands no alias) and its shape
// checked against the limits above, before it is decoded.
func Parse(file string, b []byte) (*List, error) {
	if len(b) > MaxFileSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes: not read", MaxFileSize)}
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) { // an empty file mutes nothing
			return &List{File: file}, nil
		}
		return nil, yamlError(file, err)
	}
	nodes := 0
	if err := checkShape(file, &root, 0, &nodes); err != nil {
		return nil, err
	}
	var doc struct {
		Mutes []yaml.Node `yaml:"mutes"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, yamlError(file, err)
	}
	l := &List{File: file}
	for i := range doc.Mutes {
		n := &doc.Mutes[i]
		// Node.Decode has no strict mode: a misspelt key would silently
		// widen the entry, so keys are checked here.
		if n.Kind == yaml.MappingNode {
			for k := 0; k+1 < len(n.Content); k += 2 {
				switch key := n.Content[k]; key.Value {
				case "accounts", "regions", "trails", "reason", "owner", "expires":
				default:
					return nil, &Error{File: file, Line: key.Line, Msg: fmt.Sprintf("mute entry %d: unknown field %q (known: accounts, regions, trails, reason, owner, expires)", i+1, key.Value)}
				}
			}
		}
		var e Entry
		if err := n.Decode(&e); err != nil {
			return nil, yamlError(file, err)
		}
		e.line = n.Line
		bad := func(format string, args ...any) error {
			return &Error{File: file, Line: n.Line, Msg: fmt.Sprintf("mute entry %d: ", i+1) + fmt.Sprintf(format, args...)}
		}
		for _, f := range []struct{ name, v string }{{"reason", e.Reason}, {"owner", e.Owner}, {"expires", e.Expires}} {
			if strings.TrimSpace(f.v) == "" {
				return nil, bad("%s is required (every exception says why, who owns it and until when)", f.name)
			}
		}
		day, err := time.Parse("2006-01-02", strings.TrimSpace(e.Expires))
		if err != nil {
			return nil, bad("expires %q is not a date (YYYY-MM-DD)", e.Expires)
		}
		e.expires = day.Add(24 * time.Hour)
		for _, f := range []struct {
			name     string
			patterns []string
		}{{"accounts", e.Accounts}, {"regions", e.Regions}, {"trails", e.Trails}} {
			for _, p := range f.patterns {
				if len(p) > maxPattern {
					return nil, bad("%s: a pattern of %d bytes is longer than any ARN (at most %d)", f.name, len(p), maxPattern)
				}
			}
		}
		if len(e.Accounts) == 0 {
			e.Accounts = []string{"*"}
		}
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

// checkShape walks the node tree as a decoder would, following aliases,
// and stops at the first node deeper than maxDepth or past maxNodes. The
// walk itself is bounded by the same limits, so an alias that refers to
// its own ancestor ends it too.
func checkShape(file string, n *yaml.Node, depth int, count *int) error {
	*count++
	if *count > maxNodes {
		return &Error{File: file, Line: n.Line, Msg: fmt.Sprintf("more than %d YAML nodes once aliases are expanded: not read", maxNodes)}
	}
	if depth > maxDepth {
		return &Error{File: file, Line: n.Line, Msg: fmt.Sprintf("nested more than %d levels deep: not read", maxDepth)}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return checkShape(file, n.Alias, depth+1, count)
	}
	for _, c := range n.Content {
		if err := checkShape(file, c, depth+1, count); err != nil {
			return err
		}
	}
	return nil
}

// yamlError turns the YAML library's message ("yaml: line 3: ...") into
// one that names the file.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	if te := (*yaml.TypeError)(nil); errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
		fmt.Sscanf(te.Errors[0], "line %d:", &line)
	}
	return &Error{File: file, Line: line, Msg: msg}
}

// Apply mutes the results the entries match and returns a notice for each
// expired entry. An entry matches a result that does not pass when:
//   - the result's account (for IaC results, the resource address) matches
//     one of Accounts;
//   - with Regions, every enabled region the result leaves uncovered
//     matches one of them (the exception covers the whole gap, not part of
//     it), and there is such a region;
//   - with Trails, one of the result's trails matches one of them.
//
// The first matching entry wins. An entry whose expiry date has passed
// (it holds through the whole day, UTC) mutes nothing.
func (l *List) Apply(results []trailguard.Result, now time.Time) []string {
	var notices []string
	for _, e := range l.Entries {
		if !now.Before(e.expires) {
			notices = append(notices, fmt.Sprintf("%s:%d: mute entry expired on %s (owner %s) and no longer applies: %s", l.File, e.line, e.Expires, e.Owner, e.Reason))
		}
	}
	for i := range results {
		r := &results[i]
		if r.Status == trailguard.StatusPass || r.Status == trailguard.StatusMuted {
			continue
		}
		for _, e := range l.Entries {
			if now.Before(e.expires) && e.matches(*r) {
				r.Mute(fmt.Sprintf("%s (owner %s, until %s; %s:%d)", e.Reason, e.Owner, e.Expires, l.File, e.line))
				break
			}
		}
	}
	return notices
}

func (e Entry) matches(r trailguard.Result) bool {
	subject := r.Account
	if r.File != "" {
		subject = r.Resource
	}
	if !anyMatch(e.Accounts, subject) {
		return false
	}
	if len(e.Regions) > 0 {
		gaps := r.UncoveredRegions()
		if len(gaps) == 0 {
			return false
		}
		for _, g := range gaps {
			if !anyMatch(e.Regions, g) {
				return false
			}
		}
	}
	if len(e.Trails) > 0 {
		found := false
		for _, t := range r.Trails {
			if anyMatch(e.Trails, t.ARN) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// anyMatch reports whether s matches one of the shell patterns (* and ?;
// '*' also crosses ':' and '/', as ARNs need).
func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcard.Match(p, s) {
			return true
		}
	}
	return false
}
