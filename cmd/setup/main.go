// Command setup makes sure this machine has what a make target needs, and
// says exactly what to do when it cannot: the Go modules, and moto_server
// and cfn-lint (installed with pip where they are missing and pip can).
// make dev, make test and make setup run it first.
//
//	make setup                       # everything
//	go run ./cmd/setup -need moto    # what make dev needs
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// tool is a program the targets run and the pip package that brings it.
type tool struct {
	name, bin, pip, why string
}

var tools = map[string]tool{
	"moto":     {"moto", "moto_server", "moto[server]>=5,<6", "the local stack and the integration tests run SQS, DynamoDB and Secrets Manager on it"},
	"cfn-lint": {"cfn-lint", "cfn-lint", "cfn-lint", "make lint checks template.yaml with it"},
}

func main() {
	need := flag.String("need", "moto,cfn-lint", "comma-separated tools to make sure of: moto, cfn-lint")
	install := flag.Bool("install", true, "install a missing tool with pip")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make setup   (or go run ./cmd/setup [-need moto,cfn-lint] [-install=false])")
		flag.PrintDefaults()
	}
	flag.Parse()
	var problems []string
	if out, err := exec.Command("go", "mod", "download").CombinedOutput(); err != nil {
		problems = append(problems, fmt.Sprintf("the Go modules could not be downloaded (go mod download: %v)\n%s\n  Check the network and GOPROXY (go env GOPROXY), then run make setup again.", err, indent(string(out))))
	}
	for _, n := range strings.Split(*need, ",") {
		t, ok := tools[strings.TrimSpace(n)]
		if !ok {
			fmt.Fprintf(os.Stderr, "setup: unknown tool %q (moto, cfn-lint)\n", n)
			os.Exit(2)
		}
		if p := ensure(t, *install); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(os.Stderr, "setup: this machine is missing what the target needs:")
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "- "+p)
		}
		os.Exit(1)
	}
}

// ensure finds t on PATH (the Makefile adds the folders where pip puts
// scripts), installs it with pip when allowed, and returns what to tell
// the user when it cannot.
func ensure(t tool, install bool) string {
	if t.name == "moto" && os.Getenv("AWS_ENDPOINT_URL") != "" {
		return "" // the stack uses that endpoint, not a moto_server of its own
	}
	if ms := os.Getenv("MOTO_SERVER"); t.name == "moto" && ms != "" {
		if _, err := exec.LookPath(ms); err != nil {
			return fmt.Sprintf("MOTO_SERVER=%s is not a program that can be run (%v).\n  Point it at a moto_server, or unset it to use the one on PATH.", ms, err)
		}
		return ""
	}
	if _, err := exec.LookPath(t.bin); err == nil {
		return ""
	}
	manual := fmt.Sprintf("  Install it with one of:\n    python3 -m pip install --user '%s'\n    pipx install '%s'\n  then run the target again (the Makefile looks in pip's script folders, ~/.local/bin among them).", t.pip, t.pip)
	if t.name == "moto" {
		manual += "\n  Or set MOTO_SERVER to a moto_server program, or AWS_ENDPOINT_URL to a running moto server."
	}
	if !install {
		return fmt.Sprintf("%s is not installed (%s).\n%s", t.bin, t.why, manual)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		return fmt.Sprintf("%s is not installed (%s), and there is no python3 to install it with.\n  Install Python 3.9 or later with pip (for example apt install python3-pip, brew install python), then:\n%s", t.bin, t.why, manual)
	}
	fmt.Printf("setup: %s is missing (%s): installing %s with pip\n", t.bin, t.why, t.pip)
	var errs []string
	for _, args := range [][]string{
		{"-m", "pip", "install", "--quiet", t.pip},
		{"-m", "pip", "install", "--quiet", "--user", t.pip},
	} {
		out, err := exec.Command("python3", args...).CombinedOutput()
		if err == nil {
			if _, err := exec.LookPath(t.bin); err == nil {
				return ""
			}
			return fmt.Sprintf("pip installed %s, but %s is not on PATH nor in pip's script folders.\n  Add the folder pip put it in to PATH (python3 -m site --user-base, then its bin/).", t.pip, t.bin)
		}
		errs = append(errs, "python3 "+strings.Join(args, " ")+": "+lastLine(string(out), err))
	}
	return fmt.Sprintf("%s is not installed (%s) and pip could not install it:\n%s\n%s", t.bin, t.why, indent(strings.Join(errs, "\n")), manual)
}

func lastLine(out string, err error) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Error()
	}
	return err.Error()
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
