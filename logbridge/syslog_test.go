package logbridge

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h := NewHandler(WithoutConsole(), WithSyslog(SyslogOptions{Network: "udp", Address: pc.LocalAddr().String(), Facility: 16, AppName: "orders", Hostname: "host-1"}))
	defer h.Close()
	slog.New(h).Error("disk\nfull", "k", "v")
	buf := make([]byte, 4096)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	// local0 (16) * 8 + error (3) = 131
	if !strings.HasPrefix(msg, "<131>1 ") || !strings.Contains(msg, " host-1 orders ") || !strings.Contains(msg, `"msg":"disk\nfull"`) || strings.ContainsAny(msg, "\n") {
		t.Errorf("message = %q", msg)
	}
}

func TestSyslogTCPOctetCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(conn)
		var msgs []string
		for range 2 {
			lenText, err := r.ReadString(' ')
			if err != nil {
				break
			}
			n, _ := strconv.Atoi(strings.TrimSpace(lenText))
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				break
			}
			msgs = append(msgs, string(b))
		}
		got <- msgs
	}()
	h := NewHandler(WithoutConsole(), WithSyslog(SyslogOptions{Network: "tcp", Address: ln.Addr().String()}, SinkFormat(FormatText)))
	slog.New(h).Info("first")
	slog.New(h).Warn("second")
	msgs := <-got
	h.Close()
	if len(msgs) != 2 || !strings.HasPrefix(msgs[0], "<14>1 ") || !strings.HasSuffix(msgs[0], "INFO first") || !strings.HasPrefix(msgs[1], "<12>1 ") {
		t.Errorf("messages = %q", msgs)
	}
}

func TestSyslogUnixgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.sock")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Skip("unixgram sockets unavailable:", err)
	}
	defer pc.Close()
	h := NewHandler(WithoutConsole(), WithSyslog(SyslogOptions{Network: "unixgram", Address: path}))
	defer h.Close()
	slog.New(h).Log(context.Background(), LevelCritical, "down")
	buf := make([]byte, 4096)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if msg := string(buf[:n]); !strings.HasPrefix(msg, "<10>1 ") || !strings.Contains(msg, `"level":"CRITICAL"`) {
		t.Errorf("message = %q", msg)
	}
}

// TestSyslogUnixAgainstADatagramSocket: Network "unix" given a datagram
// socket (as systemd's /dev/log is) sends each message as one datagram,
// without the newline of stream framing, instead of failing every dial.
func TestSyslogUnixAgainstADatagramSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "sl") // short: socket paths are ~108 bytes at most
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Skip("unixgram sockets unavailable:", err)
	}
	defer pc.Close()
	var stderr syncBuffer
	h := NewHandler(WithoutConsole(), WithErrorOutput(&stderr, time.Hour), WithSyslog(SyslogOptions{Network: "unix", Address: path}))
	log := slog.New(h)
	log.Info("first")
	log.Warn("second")
	buf := make([]byte, 4096)
	var msgs []string
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 2 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %q: %v; stderr %q", msgs, err, stderr.Bytes())
		}
		msgs = append(msgs, string(buf[:n]))
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msgs[0], "<14>1 ") || !strings.HasSuffix(msgs[0], "}") || !strings.Contains(msgs[0], `"msg":"first"`) ||
		!strings.HasPrefix(msgs[1], "<12>1 ") || !strings.HasSuffix(msgs[1], "}") {
		t.Errorf("datagrams %q: want one whole message each, no newline", msgs)
	}
	if n := sinkLosses(h); n != 0 {
		t.Errorf("%d records lost; stderr %q", n, stderr.Bytes())
	}
}
