// Command shop-ferretdb runs FerretDB v1.24 (PostgreSQL or SQLite backend) through its embeddable package.
// FerretDB's own cmd/ferretdb panics when built outside its repository (missing version.txt),
// so this small main is what the services script builds.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "postgresql", "backend: postgresql or sqlite")
	postgresqlURL := flag.String("postgresql-url", "postgres://postgres@127.0.0.1:5433/ferretdb",
		"PostgreSQL backend URL (handler postgresql)")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite backend URL: an existing directory ending in / (handler sqlite)")
	level := flag.String("log-level", "error", "debug, info, warn or error")
	logFile := flag.String("log-file", "", "log to this file, rotated by size (default: stderr)")
	maxBytes := flag.Int64("log-max-bytes", 10<<20, "rotate the log file when a line would take it past this size")
	files := flag.Int("log-files", 3, "rotated files kept besides the current one (FILE.1 is the newest)")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		lvl = slog.LevelError
	}
	var out io.Writer = os.Stderr
	if *logFile != "" {
		rotating, err := openRotating(*logFile, *maxBytes, *files)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cannot open the log file:", err)
			os.Exit(1)
		}
		out = rotating
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: lvl}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Handler:       *handler,
		PostgreSQLURL: *postgresqlURL,
		SQLiteURL:     *sqliteURL,
		Logger:        logger,
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Warn("FerretDB listening", "addr", *listen, "handler", *handler)
	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped", "error", err)
		os.Exit(1)
	}
}

// rotating is a log file that never grows past maxBytes (unless one line alone does): before a
// write that would, FILE.(n-1) becomes FILE.n, ..., FILE becomes FILE.1, and FILE starts empty.
type rotating struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
	files    int
	file     *os.File
	size     int64
}

func openRotating(path string, maxBytes int64, files int) (*rotating, error) {
	r := &rotating{path: path, maxBytes: maxBytes, files: files}
	return r, r.open()
}

func (r *rotating) open() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.file, r.size = f, info.Size()
	return nil
}

func (r *rotating) rotate() error {
	r.file.Close()
	os.Remove(fmt.Sprintf("%s.%d", r.path, r.files))
	for n := r.files - 1; n >= 1; n-- {
		os.Rename(fmt.Sprintf("%s.%d", r.path, n), fmt.Sprintf("%s.%d", r.path, n+1))
	}
	if r.files > 0 {
		os.Rename(r.path, r.path+".1")
	} else {
		os.Remove(r.path)
	}
	return r.open()
}

func (r *rotating) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size > 0 && r.size+int64(len(p)) > r.maxBytes {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.file.Write(p)
	r.size += int64(n)
	return n, err
}
