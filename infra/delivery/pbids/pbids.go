package pbids

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Modes are the storage modes a .pbids file may ask for.
var Modes = []string{"Import", "DirectQuery"}

// Source is the PostgreSQL server and database a file points at.
type Source struct {
	Host     string
	Port     int
	Database string
}

// Server is the connector's server field: host:port.
func (s Source) Server() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s Source) check() error {
	switch {
	case s.Host == "" || strings.ContainsAny(s.Host, "/ "):
		return fmt.Errorf("pbids: %q is not a host name", s.Host)
	case s.Port < 1 || s.Port > 65535:
		return fmt.Errorf("pbids: port %d is out of range", s.Port)
	case s.Database == "":
		return fmt.Errorf("pbids: no database")
	}
	return nil
}

// FromStackOutputs reads `pulumi stack output --json`: postgresHost,
// postgresPort (PgBouncer's 6432 where the stack has it) and
// postgresDatabase.
func FromStackOutputs(r io.Reader) (Source, error) {
	var out struct {
		Host     string `json:"postgresHost"`
		Port     int    `json:"postgresPort"`
		Database string `json:"postgresDatabase"`
	}
	if err := json.NewDecoder(r).Decode(&out); err != nil {
		return Source{}, fmt.Errorf("pbids: read the stack outputs: %w", err)
	}
	if out.Host == "" || out.Port == 0 || out.Database == "" {
		return Source{}, fmt.Errorf("pbids: the stack outputs lack postgresHost, postgresPort or postgresDatabase (run `make up` first)")
	}
	s := Source{Host: out.Host, Port: out.Port, Database: out.Database}
	return s, s.check()
}

// FromURL reads a postgres:// URL (the local engines' POSTGRES_URL). The
// user and password in it are not used: the file carries no credential.
func FromURL(raw string) (Source, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return Source{}, fmt.Errorf("pbids: %q is not a postgres:// URL", raw)
	}
	port := 5432
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return Source{}, fmt.Errorf("pbids: port %q: %w", p, err)
		}
	}
	s := Source{Host: u.Hostname(), Port: port, Database: strings.TrimPrefix(u.Path, "/")}
	return s, s.check()
}

// File is the .pbids document.
type File struct {
	Version     string       `json:"version"`
	Connections []Connection `json:"connections"`
}

// Connection is one data source in a .pbids file.
type Connection struct {
	Details Details        `json:"details"`
	Options map[string]any `json:"options"`
	Mode    string         `json:"mode"`
}

// Details name the connector and where it connects.
type Details struct {
	Protocol string  `json:"protocol"`
	Address  Address `json:"address"`
}

// Address is the PostgreSQL connector's server and database.
type Address struct {
	Server   string `json:"server"`
	Database string `json:"database"`
}

// Write writes the file for s in mode (Import or DirectQuery).
func Write(w io.Writer, s Source, mode string) error {
	if err := s.check(); err != nil {
		return err
	}
	ok := false
	for _, m := range Modes {
		ok = ok || m == mode
	}
	if !ok {
		return fmt.Errorf("pbids: mode %q is not one of %s", mode, strings.Join(Modes, ", "))
	}
	f := File{Version: "0.1", Connections: []Connection{{
		Details: Details{Protocol: "postgresql", Address: Address{Server: s.Server(), Database: s.Database}},
		Options: map[string]any{},
		Mode:    mode,
	}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("pbids: %w", err)
	}
	return nil
}
