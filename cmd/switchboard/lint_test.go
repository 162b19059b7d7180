package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeDoc(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLint(t *testing.T) {
	dir := t.TempDir()
	valid := writeDoc(t, dir, "valid.xml", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say>Hello</Say>
  <Dial><Conference waitUrl="">Room</Conference></Dial>
</Response>
`)
	invalid := writeDoc(t, dir, "invalid.xml", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Dial timeout="abc">+15558675310</Dial>
  <Gather><Dial>+15558675310</Dial></Gather>
</Response>
`)
	broken := writeDoc(t, dir, "broken.xml", "<Response><Say>Hello</Response>")
	missing := filepath.Join(dir, "missing.xml")

	invalidLines := invalid + ":3:9: 13212 Dial: invalid timeout value \"abc\": must be a positive integer\n" +
		invalid + ":4:11: 13320 Gather: <Dial> is not allowed inside <Gather>; only Say, Play and Pause are\n"

	tests := []struct {
		name       string
		args       []string
		stdin      string
		code       int
		stdout     string
		stderrHas  string
		stdoutHas  string
		emptyError bool
	}{
		{name: "no arguments", args: nil, code: 2, stderrHas: "usage: switchboard lint"},
		{name: "unknown flag", args: []string{"-x", valid}, code: 2, stderrHas: "unknown flag -x"},
		{name: "help", args: []string{"-h"}, code: 0, stdoutHas: "FILE:LINE:COL: CODE message"},
		{name: "valid file", args: []string{valid}, code: 0, stdout: "", emptyError: true},
		{name: "invalid file", args: []string{invalid}, code: 1, stdout: invalidLines, emptyError: true},
		{name: "valid then invalid", args: []string{valid, invalid}, code: 1, stdout: invalidLines},
		{name: "parse failure", args: []string{broken}, code: 1,
			stdout: broken + ":1:21: 12100 Document parse failure: element <Say> closed by </Response>\n"},
		{name: "stdin valid", args: []string{"-"}, stdin: "<Response><Hangup/></Response>", code: 0, stdout: ""},
		{name: "stdin invalid", args: []string{"-"}, stdin: "<Response>\n<Pause length=\"x\"/></Response>", code: 1,
			stdout: "<stdin>:2:8: 13910 Pause: invalid length value \"x\": must be a non-negative integer\n"},
		{name: "stdin not twice", args: []string{"-", "-"}, code: 2, stderrHas: "more than once"},
		{name: "missing file", args: []string{missing, valid}, code: 1, stdout: "", stderrHas: "missing.xml"},
		{name: "directory", args: []string{dir}, code: 1, stderrHas: dir},
		{name: "dash after --", args: []string{"--", "-"}, code: 1, stderrHas: "open -"},
		{name: "corpus example", args: []string{filepath.Join("..", "..", "internal", "twiml", "testdata", "valid", "seed000-ex1-conference.xml")}, code: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runLint(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stdout %q, stderr %q)", code, tt.code, stdout.String(), stderr.String())
			}
			if tt.stdoutHas == "" && stdout.String() != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tt.stdout)
			}
			if tt.stdoutHas != "" && !strings.Contains(stdout.String(), tt.stdoutHas) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.stdoutHas)
			}
			if tt.stderrHas != "" && !strings.Contains(stderr.String(), tt.stderrHas) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderrHas)
			}
			if tt.emptyError && stderr.Len() != 0 {
				t.Errorf("unexpected stderr %q", stderr.String())
			}
		})
	}
}
