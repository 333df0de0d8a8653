package otelsetup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileValue is one setting read from a configuration file.
type fileValue struct {
	key  string
	s    string
	m    map[string]string
	line int
	// lines holds the line of each part of a structured value
	// (logs.loggers: "audit", "audit.file"), for errors.
	lines map[string]int
}

// FileError is returned by Setup for a configuration file that cannot be
// used: it names the file, the line and the key.
type FileError struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *FileError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("otelsetup: %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("otelsetup: %s:%d: %s: %v", e.File, e.Line, e.Key, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// maxConfigFileSize is the largest configuration file Setup reads, 1 MiB,
// and the largest certificate or key file it lets the OTLP exporters
// read; a larger one is an error naming the file and this bound.
const maxConfigFileSize = 1 << 20

// readFile reads a YAML configuration file. Its keys mirror the settings:
// nested maps name them ("exporter: {endpoint: ...}" is exporter.endpoint),
// and a dotted key may be written flat. Unknown keys are errors.
func readFile(path string) ([]fileValue, error) {
	data, err := readBounded(path, maxConfigFileSize)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file sets nothing
		}
		return nil, &FileError{File: path, Line: yamlErrLine(err), Err: err}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &FileError{File: path, Line: root.Line, Err: errors.New("want a mapping of settings at the top level")}
	}
	var out []fileValue
	seen := map[string]int{}
	if err := walk(path, "", root, &out, seen); err != nil {
		return nil, err
	}
	return out, nil
}

// readBounded reads the regular file at path, at most max bytes. Anything
// else is refused before it is opened: opening a FIFO blocks until a
// writer comes, and a device or pipe may never end (/dev/zero). A file
// that grows past max while it is read is refused too.
func readBounded(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("otelsetup: configuration file: %w", err)
	}
	if err := unreadable(fi, max); err != nil {
		return nil, fmt.Errorf("otelsetup: configuration file %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("otelsetup: configuration file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("otelsetup: configuration file: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("otelsetup: configuration file %s: %w", path, tooLarge(max))
	}
	return data, nil
}

// unreadable says why a file of this kind and size is not read whole:
// it is no regular file, or larger than max.
func unreadable(fi os.FileInfo, max int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s), so it is not read; give the path of a regular file", fileKind(fi.Mode()))
	}
	if fi.Size() > max {
		return tooLarge(max)
	}
	return nil
}

func tooLarge(max int64) error {
	return fmt.Errorf("larger than %d bytes (%d KiB), the bound of a file otelkit reads whole", max, max>>10)
}

func fileKind(m os.FileMode) string {
	switch t := m.Type(); {
	case t&os.ModeDir != 0:
		return "a directory"
	case t&os.ModeNamedPipe != 0:
		return "a pipe"
	case t&os.ModeCharDevice != 0:
		return "a character device"
	case t&os.ModeDevice != 0:
		return "a device"
	case t&os.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// exporterFileVars name files the OTLP exporters read whole themselves,
// when they are built, without a bound.
var exporterFileVars = func() []string {
	var out []string
	for _, sig := range []string{"", "TRACES_", "METRICS_", "LOGS_"} {
		for _, f := range []string{"CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"} {
			out = append(out, "OTEL_EXPORTER_OTLP_"+sig+f)
		}
	}
	return out
}()

// checkExporterFiles refuses, before the exporters read them, the files
// named by exporterFileVars that are no regular file or larger than
// maxConfigFileSize: /dev/zero there would make Setup read forever. A
// file that does not exist is left to the exporter, which reports it.
func checkExporterFiles(getenv func(string) string) []error {
	var errs []error
	for _, v := range exporterFileVars {
		p := getenv(v)
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if err := unreadable(fi, maxConfigFileSize); err != nil {
			errs = append(errs, fmt.Errorf("otelsetup: %s=%s: %w", v, p, err))
		}
	}
	return errs
}

func walk(path, prefix string, n *yaml.Node, out *[]fileValue, seen map[string]int) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if s, ok := settingByKey(key); ok {
			if line, dup := seen[key]; dup {
				return &FileError{File: path, Line: k.Line, Key: key, Err: fmt.Errorf("set twice (first on line %d)", line)}
			}
			seen[key] = k.Line
			fv := fileValue{key: key, line: k.Line}
			switch {
			case s.kind == routes && v.Kind == yaml.MappingNode:
				if err := walkRoutes(path, key, v, &fv); err != nil {
					return err
				}
			case s.kind == mapping && v.Kind == yaml.MappingNode:
				fv.m = make(map[string]string, len(v.Content)/2)
				for j := 0; j+1 < len(v.Content); j += 2 {
					mk, mv := v.Content[j], v.Content[j+1]
					if mv.Kind != yaml.ScalarNode {
						return &FileError{File: path, Line: mv.Line, Key: key + "." + mk.Value, Err: errors.New("want a scalar value")}
					}
					fv.m[mk.Value] = mv.Value
				}
			case v.Kind == yaml.ScalarNode:
				if v.Tag == "!!null" {
					return &FileError{File: path, Line: k.Line, Key: key, Err: errors.New("no value")}
				}
				fv.s = v.Value
			default:
				return &FileError{File: path, Line: v.Line, Key: key, Err: errors.New("want a single value")}
			}
			*out = append(*out, fv)
			continue
		}
		if v.Kind == yaml.MappingNode && hasPrefix(key+".") {
			if err := walk(path, key+".", v, out, seen); err != nil {
				return err
			}
			continue
		}
		return &FileError{File: path, Line: k.Line, Key: key, Err: errors.New("unknown key")}
	}
	return nil
}

// walkRoutes reads logs.loggers: a mapping of logger names to a file path
// or to a mapping of the fields file, level and propagate. fv gets them
// flattened ("audit.file") with the line of each.
func walkRoutes(path, key string, v *yaml.Node, fv *fileValue) error {
	fv.m, fv.lines = map[string]string{}, map[string]int{}
	names := map[string]int{}
	for j := 0; j+1 < len(v.Content); j += 2 {
		nk, nv := v.Content[j], v.Content[j+1]
		name := nk.Value
		if line, dup := names[name]; dup {
			return &FileError{File: path, Line: nk.Line, Key: key + "." + name, Err: fmt.Errorf("set twice (first on line %d)", line)}
		}
		names[name] = nk.Line
		if _, ok := fv.lines[name]; !ok {
			fv.lines[name] = nk.Line
		}
		switch {
		case nv.Kind == yaml.ScalarNode && nv.Tag != "!!null":
			fv.m[name+".file"], fv.lines[name+".file"] = nv.Value, nk.Line
		case nv.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(nv.Content); i += 2 {
				fk, fval := nv.Content[i], nv.Content[i+1]
				sub := name + "." + fk.Value
				if !contains(routeFields, fk.Value) {
					return &FileError{File: path, Line: fk.Line, Key: key + "." + sub, Err: fmt.Errorf("unknown key (want %s)", strings.Join(routeFields, ", "))}
				}
				if line, dup := fv.lines[sub]; dup {
					return &FileError{File: path, Line: fk.Line, Key: key + "." + sub, Err: fmt.Errorf("set twice (first on line %d)", line)}
				}
				if fval.Kind != yaml.ScalarNode || fval.Tag == "!!null" {
					return &FileError{File: path, Line: fk.Line, Key: key + "." + sub, Err: errors.New("want a single value")}
				}
				fv.m[sub], fv.lines[sub] = fval.Value, fk.Line
			}
		default:
			return &FileError{File: path, Line: nk.Line, Key: key + "." + name, Err: errors.New("want a file path, or a mapping of file, level and propagate")}
		}
	}
	return nil
}

func hasPrefix(p string) bool {
	for _, s := range settings {
		if strings.HasPrefix(s.key, p) {
			return true
		}
	}
	return false
}

func yamlErrLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	var line int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); scanErr == nil {
		return line
	}
	return 0
}
