package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/switchboard-voice/switchboard/internal/twiml"
)

const lintUsage = `usage: switchboard lint FILE...
       switchboard lint -          (read one document from standard input)

Checks TwiML voice documents the way Twilio validates them and prints one line
per problem:

  FILE:LINE:COL: CODE message

CODE is Twilio's error code (12100 parse failure, 12200 schema, 13xxx per verb,
...). Exit status: 0 when every document is valid, 1 when one is not or cannot
be read, 2 on a usage error.
`

// stdinName is how lint names standard input in its output.
const stdinName = "<stdin>"

// runLint implements `switchboard lint FILE...|-`. It returns the exit code.
func runLint(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var files []string
	onlyFiles := false
	for _, a := range args {
		switch {
		case onlyFiles || a == "-" || a == "" || a[0] != '-':
			files = append(files, a)
		case a == "--":
			onlyFiles = true
		case a == "-h" || a == "-help" || a == "--help":
			fmt.Fprint(stdout, lintUsage)
			return 0
		default:
			fmt.Fprintf(stderr, "switchboard lint: unknown flag %s\n\n%s", a, lintUsage)
			return 2
		}
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, lintUsage)
		return 2
	}
	stdinUses := 0
	for _, f := range files {
		if f == "-" && !onlyFiles {
			stdinUses++
		}
	}
	if stdinUses > 1 {
		fmt.Fprintf(stderr, "switchboard lint: standard input (-) given more than once\n")
		return 2
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	code := 0
	for _, f := range files {
		if !lintOne(f, f == "-" && !onlyFiles, stdin, out, stderr) {
			code = 1
		}
	}
	return code
}

// lintOne checks one document and reports whether it is valid.
func lintOne(name string, fromStdin bool, stdin io.Reader, out *bufio.Writer, stderr io.Writer) bool {
	var r io.Reader
	if fromStdin {
		name, r = stdinName, stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "switchboard lint: %v\n", err)
			return false
		}
		defer f.Close()
		r = f
	}
	_, err := twiml.Parse(r)
	if err == nil {
		return true
	}
	var list twiml.ErrorList
	if !errors.As(err, &list) {
		out.Flush()
		fmt.Fprintf(stderr, "switchboard lint: %s: %v\n", name, err)
		return false
	}
	for _, e := range list {
		fmt.Fprintf(out, "%s:%s\n", name, e.Error())
	}
	return false
}
