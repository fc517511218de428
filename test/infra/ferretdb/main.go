// Command tresor-ferretdb serves the MongoDB wire protocol for Tresor's integration tests.
//
// It embeds FerretDB v1 (github.com/FerretDB/FerretDB/ferretdb) with the PostgreSQL backend.
// The stock `go install .../cmd/ferretdb` binary panics at start because its version files are
// generated at release time; the embeddable package does not need them.
//
// Started by test/infra/up; not for production use.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27117", "TCP address to serve the MongoDB wire protocol on")
	pgURL := flag.String("postgresql-url", "postgres://postgres@127.0.0.1:5432/tresor_ferretdb", "PostgreSQL connection string of the backing database")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "tresor-ferretdb: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "tresor-ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go func() {
		// MongoDBURI blocks until the listener is bound, so this line means "ready".
		fmt.Fprintf(os.Stderr, "tresor-ferretdb: listening, uri=%s\n", f.MongoDBURI())
	}()

	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "tresor-ferretdb: %v\n", err)
		os.Exit(1)
	}
}
