package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	if err := o.checkPaths(); err != nil {
		return err
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
// A report file that cannot be written at the end (the paths were checked
// before the scan, but a disk fills, a directory goes away) is not lost:
// it is written to a fallback directory in the temp dir, or else to
// stdout, and the error says where.
func (o *outputFlags) write(stdout io.Writer, rep *report.Report) error {
	if o.outputDir != "" || o.output != "" {
		var failed []outputFile
		var errs []string
		var dirErr error
		if o.outputDir != "" {
			if err := os.MkdirAll(o.outputDir, 0o755); err != nil {
				dirErr = fmt.Errorf("--output-dir: %w", err)
				errs = append(errs, dirErr.Error())
			}
		}
		for _, f := range o.files() {
			if dirErr != nil {
				failed = append(failed, f)
				continue
			}
			if err := o.writeFile(f.path, f.format, rep); err != nil {
				failed = append(failed, f)
				errs = append(errs, err.Error())
			} else if o.outputDir != "" && o.stderr != nil {
				// --output-dir writes several files: say which.
				fmt.Fprintf(o.stderr, "wrote %s (%s)\n", report.Escape(f.path), f.format)
			}
		}
		if len(failed) > 0 {
			return o.rescue(stdout, rep, failed, errs)
		}
	} else {
		colour := o.color == "always" || (o.color == "auto" && isTerminal(stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb")
		if err := o.render(stdout, o.formats()[0], colour, rep); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("write report: %w", err)}
		}
	}
	return resultsExit(rep)
}

// resultsExit is the exit the report's results call for.
func resultsExit(rep *report.Report) error {
	if rep.Partial != nil {
		// An incomplete scan proves nothing about the accounts it missed.
		return &exitError{code: 2, err: fmt.Errorf("partial results: %s", rep.Partial.Reason)}
	}
	if code := trailguard.ExitCode(rep.Results); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// outputFile is one report file --output or --output-dir asks for.
type outputFile struct {
	path, format string
}

// files lists the report files to write.
func (o *outputFlags) files() []outputFile {
	if o.outputDir == "" {
		return []outputFile{{path: o.output, format: o.formats()[0]}}
	}
	var out []outputFile
	for _, f := range o.formats() {
		ext := extensions[f]
		if ext == "" {
			ext = f
		}
		out = append(out, outputFile{path: filepath.Join(o.outputDir, "trailguard."+ext), format: f})
	}
	return out
}

// rescue writes the report files that could not be written to a new
// directory in the temp dir (else the first to stdout), and returns the
// error that says what failed and where the report went. The exit code is
// the results' when they FAIL (a CI gate keeps its meaning), else 2.
func (o *outputFlags) rescue(stdout io.Writer, rep *report.Report, failed []outputFile, errs []string) error {
	code := 2
	if trailguard.ExitCode(rep.Results) == 1 {
		code = 1
	}
	what := strings.Join(errs, "; ")
	dir, err := os.MkdirTemp("", "trailguard-report-")
	if err == nil {
		var written []string
		for _, f := range failed {
			path := filepath.Join(dir, filepath.Base(f.path))
			if werr := o.writeFile(path, f.format, rep); werr != nil {
				err = werr
				break
			}
			written = append(written, path)
		}
		if err == nil {
			return &exitError{code: code, err: fmt.Errorf("%s; the report was written instead to %s", what, strings.Join(written, ", "))}
		}
	}
	if rerr := o.render(stdout, failed[0].format, false, rep); rerr != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s; the fallback in the temp dir failed too (%v), and so did standard output: %w", what, err, rerr)}
	}
	return &exitError{code: code, err: fmt.Errorf("%s; the fallback in the temp dir failed too (%v): the %s report was written to standard output instead", what, err, failed[0].format)}
}

func (o *outputFlags) writeFile(path, format string, rep *report.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	err = o.render(f, format, o.color == "always", rep)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// checkPaths checks, before any work, that the report files can be
// written: a path in a directory that does not exist or cannot be written
// would otherwise fail only after a scan that may have taken an hour. The
// check creates nothing that stays: an existing file is opened for writing
// without truncation, a directory is probed with a temporary file that is
// removed at once (permission bits alone do not say, with ACLs and
// read-only mounts).
func (o *outputFlags) checkPaths() error {
	if o.output != "" {
		if err := checkWritableFile(o.output); err != nil {
			return usageErr("--output: %v", err)
		}
	}
	if o.outputDir != "" {
		if err := checkWritableDir(o.outputDir); err != nil {
			return usageErr("--output-dir: %v", err)
		}
	}
	return nil
}

// checkWritableFile reports why path cannot be written as a file.
func checkWritableFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil && !st.Mode().IsRegular():
		// A pipe (-o >(jq .)) or a device: opening it to check would
		// hand the reader an end of file, or block until one comes.
		return nil
	case err == nil:
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
		return f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	dst, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot write %s: directory %s does not exist", path, dir)
		}
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if !dst.IsDir() {
		return fmt.Errorf("cannot write %s: %s is not a directory", path, dir)
	}
	if err := probeDir(dir); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// checkWritableDir reports why dir cannot be written to, or, when it does
// not exist yet, created in its nearest existing parent.
func checkWritableDir(dir string) error {
	at := filepath.Clean(dir)
	for {
		st, err := os.Stat(at)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("cannot write to %s: %s is not a directory", dir, at)
			}
			if err := probeDir(at); err != nil {
				return fmt.Errorf("cannot write to %s: %w", dir, err)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot write to %s: %w", dir, err)
		}
		parent := filepath.Dir(at)
		if parent == at {
			return fmt.Errorf("cannot write to %s: no part of it exists", dir)
		}
		at = parent
	}
}

// probeDir creates and removes a file in dir.
func probeDir(dir string) error {
	f, err := os.CreateTemp(dir, ".trailguard-probe-*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
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
