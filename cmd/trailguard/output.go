package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/mutelist"
	"github.com/trailguard/trailguard/report"
)

// outputFlags are shared by every command that prints results.
type outputFlags struct {
	// sarifBase is the directory SARIF URIs are relative to (set by iac).
	sarifBase string
	format    string
	output    string
	outputDir string
	color     string
	strict    bool
	verbose   bool
	mutelist  string
	mutes     *mutelist.List
	// stderr, when set, is where --output-dir lists the files it wrote:
	// a person (or a CI log) learns where the reports went.
	stderr io.Writer
}

func (o *outputFlags) register(f *pflag.FlagSet) {
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", ")+"\n(several, comma-separated, with --output-dir)")
	f.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.StringVar(&o.outputDir, "output-dir", "", "write one file per --format to `DIR` (trailguard.<ext>)")
	f.StringVar(&o.color, "color", "auto", "colour: auto (terminal and NO_COLOR unset), always, never")
	f.StringVar(&o.mutelist, "mutelist", "", "YAML `FILE` of exceptions (accounts, regions, trails; each with reason, owner, expires):\nmatched results show as MUTED with the reason; expired entries stop muting")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "text format: detail every account, passing ones included, even in a long report")
	f.BoolVar(&o.strict, "strict", false, "a trail that excludes management event sources (KMS, RDS Data API) does not count,\nas in AWS Config multi-region-cloudtrail-enabled and Security Hub CloudTrail.1")
}

// formats returns the --format list, lower-cased and without repeats.
func (o *outputFlags) formats() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(o.format, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func (o *outputFlags) validate() error {
	formats := o.formats()
	if len(formats) == 0 {
		return usageErr("--format is empty (choose from: %s)", strings.Join(report.Formats(), ", "))
	}
	for _, f := range formats {
		if _, err := report.ForFormat(f, report.Style{}); err != nil {
			return usageErr("--format: %v", err)
		}
	}
	if len(formats) > 1 && o.outputDir == "" {
		return usageErr("--format %s names several formats: give --output-dir DIR to write one file each", o.format)
	}
	if o.outputDir != "" && o.output != "" {
		return usageErr("--output and --output-dir cannot be combined")
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return usageErr("--color must be auto, always or never, not %q", o.color)
	}
	if o.mutelist != "" {
		l, err := mutelist.Load(o.mutelist)
		if err != nil {
			return usageErr("--mutelist: %v", err)
		}
		o.mutes = l
	}
	return nil
}

// applyMutes mutes what the mutelist matches, as of now, and tells the
// user about expired entries.
func (o *outputFlags) applyMutes(stderr io.Writer, rep *report.Report) {
	if o.mutes == nil {
		return
	}
	rep.Notices = append(rep.Notices, o.mutes.Apply(rep.Results, time.Now())...)
	rep.Summary = trailguard.Summarize(rep.Results)
	for _, n := range rep.Notices {
		fmt.Fprintln(stderr, "trailguard:", n)
	}
}

// extensions names the file each format is written to under --output-dir.
var extensions = map[string]string{
	"text": "txt", "json": "json", "csv": "csv", "markdown": "md", "md": "md", "junit": "junit.xml",
	"sarif": "sarif", "asff": "asff.json", "ocsf": "ocsf.json", "html": "html",
}

// write renders the report and returns the exit code the results call for.
func (o *outputFlags) write(stdout io.Writer, rep *report.Report) error {
	if o.outputDir != "" {
		if err := os.MkdirAll(o.outputDir, 0o755); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--output-dir: %w", err)}
		}
		for _, f := range o.formats() {
			ext := extensions[f]
			if ext == "" {
				ext = f
			}
			path := filepath.Join(o.outputDir, "trailguard."+ext)
			if err := o.writeFile(path, f, rep); err != nil {
				return err
			}
			if o.stderr != nil {
				fmt.Fprintf(o.stderr, "wrote %s (%s)\n", path, f)
			}
		}
	} else if o.output != "" {
		if err := o.writeFile(o.output, o.formats()[0], rep); err != nil {
			return err
		}
	} else {
		colour := o.color == "always" || (o.color == "auto" && isTerminal(stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb")
		if err := o.render(stdout, o.formats()[0], colour, rep); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("write report: %w", err)}
		}
	}
	if rep.Partial != nil {
		// An incomplete scan proves nothing about the accounts it missed.
		return &exitError{code: 2, err: fmt.Errorf("partial results: %s", rep.Partial.Reason)}
	}
	if code := trailguard.ExitCode(rep.Results); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func (o *outputFlags) writeFile(path, format string, rep *report.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("write report: %w", err)}
	}
	err = o.render(f, format, o.color == "always", rep)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("write report %s: %w", path, err)}
	}
	return nil
}

func (o *outputFlags) render(w io.Writer, format string, colour bool, rep *report.Report) error {
	wr, err := report.ForFormat(format, report.Style{Color: colour, Verbose: o.verbose, SARIFBase: o.sarifBase})
	if err != nil {
		return err
	}
	return wr.Write(w, rep)
}

// escapingWriter shows on standard error what a command writes, with
// every control character, C1 control, bidi override and invalid byte made
// visible (report.EscapeLines): input never controls the terminal. Each
// Write is escaped on its own; fmt's print functions write a whole message
// at once, so no character is split between two writes.
type escapingWriter struct {
	w io.Writer
}

func (e escapingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(e.w, report.EscapeLines(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rawWriter is the writer under an escapingWriter: for the progress line,
// which moves the cursor itself, and to ask whether it is a terminal.
func rawWriter(w io.Writer) io.Writer {
	if e, ok := w.(escapingWriter); ok {
		return e.w
	}
	return w
}
