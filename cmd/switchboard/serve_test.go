package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// binary is the switchboard executable built once for the tests that run it as a
// user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "switchboard")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T, network string) string {
	t.Helper()
	switch network {
	case "udp":
		// SIP listens on the port over UDP and TCP: a port free for UDP
		// whose TCP side another test holds made the server stop at once.
		for range 100 {
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := c.LocalAddr().String()
			l, err := net.Listen("tcp", addr)
			c.Close()
			if err == nil {
				l.Close()
				return addr
			}
		}
		t.Fatal("no port free for both UDP and TCP")
		return ""
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
}

// syncBuffer is a bytes.Buffer the child process writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type served struct {
	cmd    *exec.Cmd
	http   string
	stdout *syncBuffer
	stderr *syncBuffer
}

// startServe runs `switchboard serve` with the given data dir and environment and
// waits until /healthz answers 200.
func startServe(t *testing.T, data string, env ...string) *served {
	t.Helper()
	return startServeWith(t, data, serveOpts{}, env...)
}

// serveOpts are startServeWith's departures from startServe.
type serveOpts struct {
	stderr *os.File // the server's standard error (it writes there directly), not s.stderr
}

// rtpBlockNext hands each server a range of RTP ports of its own: a server
// keeps the sockets of ended calls bound for a while (media's port pool),
// so servers sharing a range would find it taken.
var rtpBlockNext atomic.Int32

const (
	rtpBlockBase = 46000
	rtpBlockSize = 100
	rtpBlocks    = 40 // 46000-49999, reused in turn (-count runs one after the other)
)

// startServeWith is startServe with o.
func startServeWith(t *testing.T, data string, o serveOpts, env ...string) *served {
	t.Helper()
	httpAddr := freePort(t, "tcp")
	sipAddr := freePort(t, "udp")
	lo := rtpBlockBase + rtpBlockSize*(int(rtpBlockNext.Add(1))%rtpBlocks)
	cmd := exec.Command(binary, "serve", "--http", httpAddr, "--sip", sipAddr, "--data", data, "--rtp-ports", fmt.Sprintf("%d-%d", lo, lo+rtpBlockSize-1))
	cmd.Env = append(os.Environ(), env...)
	s := &served{cmd: cmd, http: httpAddr, stdout: new(syncBuffer), stderr: new(syncBuffer)}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if o.stderr != nil {
		cmd.Stderr = o.stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz never answered 200 (last err %v)\nstderr:\n%s", err, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit.
func (s *served) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v\nstderr:\n%s", err, s.stderr)
		}
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("serve did not stop on SIGTERM\nstderr:\n%s", s.stderr)
	}
}

func fetchAccount(t *testing.T, httpAddr, sid, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+httpAddr+"/2010-04-01/Accounts/"+sid+".json", nil)
	req.SetBasicAuth(sid, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestServeWithAccountFromEnvironment(t *testing.T) {
	const sid, token = "AC0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	data := t.TempDir()
	s := startServe(t, data, "SWITCHBOARD_ACCOUNT_SID="+sid, "SWITCHBOARD_AUTH_TOKEN="+token)
	code, body := fetchAccount(t, s.http, sid, token)
	if code != 200 || body["sid"] != sid {
		t.Fatalf("fetch account: %d %v", code, body)
	}
	if code, _ := fetchAccount(t, s.http, sid, strings.Repeat("0", 32)); code != 401 {
		t.Fatalf("wrong token: status %d, want 401", code)
	}
	if strings.Contains(s.stdout.String(), token) {
		t.Fatalf("a token given in the environment was printed:\n%s", s.stdout)
	}
	s.stop(t)
	if _, err := os.Stat(filepath.Join(data, "switchboard.db")); err != nil {
		t.Fatalf("no SQLite database in --data: %v", err)
	}
}

func TestServeGeneratesAccountOnceAndKeepsIt(t *testing.T) {
	data := t.TempDir()
	s := startServe(t, data)
	s.stop(t)
	sid := regexp.MustCompile(`SWITCHBOARD_ACCOUNT_SID=(AC[0-9a-f]{32})`).FindStringSubmatch(s.stdout.String())
	token := regexp.MustCompile(`SWITCHBOARD_AUTH_TOKEN=([0-9a-f]{32})`).FindStringSubmatch(s.stdout.String())
	if sid == nil || token == nil {
		t.Fatalf("generated credentials not printed:\n%s", s.stdout)
	}

	again := startServe(t, data)
	if strings.Contains(again.stdout.String(), token[1]) {
		t.Fatalf("credentials printed a second time:\n%s", again.stdout)
	}
	if code, body := fetchAccount(t, again.http, sid[1], token[1]); code != 200 || body["sid"] != sid[1] {
		t.Fatalf("generated account after restart: %d %v", code, body)
	}
	again.stop(t)
}

func TestServeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--rtp-ports", "9-8"},
		{"serve", "--no-such-flag"},
		{"frobnicate"},
		{},
	} {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "SWITCHBOARD_DATA="+t.TempDir())
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Errorf("switchboard %q: %v, want exit status 2", args, err)
		}
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_RTP_PORTS=nonsense")
	if err := cmd.Run(); err == nil {
		t.Error("a bad SWITCHBOARD_RTP_PORTS was accepted")
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.CommandContext(context.Background(), binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "switchboard ") {
		t.Fatalf("version: %q %v", out, err)
	}
}
