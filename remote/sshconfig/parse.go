package sshconfig

import (
	"errors"
	"fmt"
	"strings"
)

// Line is one directive of an ssh_config file: a keyword and its
// arguments, and where it was written.
type Line struct {
	// File and Num say where the line is: the file name given to Parse and
	// the line number, from 1.
	File string
	Num  int
	// Key is the keyword as written; keywords are matched without regard
	// to case.
	Key string
	// Args are the arguments, unquoted; there is at least one.
	Args []string
}

// Parse splits ssh_config text into its directives, skipping blank lines
// and comments. name is the file's name, for messages. A line is
// "Keyword arg…" or "Keyword=arg…"; arguments are split at blanks, may be
// quoted with " or ', and a # at the start of one ends the line, as
// OpenSSH reads them.
//
// On a line it cannot read (an unterminated quote, a keyword without a
// value) Parse returns the lines before it and an error that starts with
// "name:N: ", so that a caller applying the lines in order meets the error
// where OpenSSH would.
func Parse(name string, text []byte) ([]Line, error) {
	var lines []Line
	for n, line := range strings.Split(string(text), "\n") {
		key, args, err := splitLine(line)
		if err != nil {
			return lines, fmt.Errorf("%s:%d: %w", name, n+1, err)
		}
		if key == "" {
			continue
		}
		if len(args) == 0 {
			return lines, fmt.Errorf("%s:%d: %s needs a value", name, n+1, key)
		}
		lines = append(lines, Line{File: name, Num: n + 1, Key: key, Args: args})
	}
	return lines, nil
}

// Format writes lines as ssh_config text, one a line, quoting what needs
// it, so that Parse reads back the same keywords and arguments.
func Format(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Key)
		for _, a := range l.Args {
			b.WriteByte(' ')
			b.WriteString(quoteArg(a))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// quoteArg writes an argument bare when Parse reads it back as it is, and
// in double quotes otherwise (Parse drops a NUL outside quotes).
func quoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"'\\#=\x00") && strings.TrimSpace(a) == a {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		if a[i] == '"' || a[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(a[i])
	}
	b.WriteByte('"')
	return b.String()
}

// splitLine splits an ssh_config line into its keyword and arguments. A
// blank line, a comment and a line with an empty keyword ("=x") give an
// empty keyword.
func splitLine(line string) (key string, args []string, err error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return line, nil, nil
	}
	key, rest := line[:end], strings.TrimLeft(line[end:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	var arg strings.Builder
	inArg := false
	var quote byte
	for i := 0; i < len(rest); i++ {
		ch := rest[i]
		switch {
		case quote == 0 && (ch == ' ' || ch == '\t'):
			if inArg {
				args = append(args, arg.String())
				arg.Reset()
				inArg = false
			}
		case quote == 0 && ch == '#' && !inArg:
			return key, args, nil
		case ch == '\\' && i+1 < len(rest) && (strings.IndexByte(`"'\`, rest[i+1]) >= 0 || quote == 0 && rest[i+1] == ' '):
			i++
			arg.WriteByte(rest[i])
			inArg = true
		case quote == 0 && (ch == '"' || ch == '\''):
			quote, inArg = ch, true
		case ch == quote:
			quote = 0
		default:
			arg.WriteByte(ch)
			inArg = true
		}
	}
	if quote != 0 {
		return "", nil, errors.New("unterminated quote")
	}
	if inArg {
		args = append(args, arg.String())
	}
	return key, args, nil
}
