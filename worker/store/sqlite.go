package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"modernc.org/sqlite" // registers the pure-Go "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite is a Store in a local SQLite file (WAL mode, pure-Go driver).
//
// Table results(msg_id TEXT PRIMARY KEY, number TEXT, factors TEXT (JSON
// array), topic TEXT, partition INTEGER, offset INTEGER, processed_at TEXT
// (RFC 3339, UTC)). number is TEXT because SQLite integers are signed 64-bit
// and N may reach 2^64-1. Put inserts a batch in one transaction with
// INSERT OR IGNORE, so the first write of a msg_id wins. A row the database
// rejects (a constraint or trigger added by the operator, a value too big)
// is left out and reported in a *PartialError; the rest of the batch is
// committed.
type SQLite struct {
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

const sqliteSchema = `CREATE TABLE IF NOT EXISTS results (
	msg_id       TEXT PRIMARY KEY,
	number       TEXT NOT NULL,
	factors      TEXT NOT NULL,
	topic        TEXT NOT NULL,
	partition    INTEGER NOT NULL,
	"offset"     INTEGER NOT NULL,
	processed_at TEXT NOT NULL
)`

// OpenSQLite opens (creating if needed) the database file at path.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)") // durable across process crashes in WAL mode
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; avoids SQLITE_BUSY between our own connections
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create sqlite schema in %s: %w", path, err)
	}
	return &SQLite{db: db}, nil
}

// Put implements Store.
func (s *SQLite) Put(ctx context.Context, results []Result) error {
	if len(results) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	stmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO results
		(msg_id, number, factors, topic, partition, "offset", processed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite prepare insert: %w", err)
	}
	defer stmt.Close()
	failed := map[int]error{}
	for i, r := range results {
		factors, err := json.Marshal(r.Factors)
		if err != nil {
			return fmt.Errorf("encode factors of %s: %w", r.MsgID, err)
		}
		if _, err := stmt.ExecContext(ctx, r.MsgID, strconv.FormatUint(r.Number, 10), string(factors),
			r.Topic, r.Partition, r.Offset, r.ProcessedAt.UTC().Format(time.RFC3339Nano)); err != nil {
			if !rowRejected(err) {
				return fmt.Errorf("sqlite insert %s: %w", r.MsgID, err)
			}
			// A rejected row (a constraint or trigger: the statement is
			// undone, the transaction goes on) fails alone.
			failed[i] = fmt.Errorf("sqlite insert %s: %w", r.MsgID, err)
		}
	}
	if len(failed) == len(results) {
		return &PartialError{Failed: failed}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite commit: %w", err)
	}
	if len(failed) > 0 {
		return &PartialError{Failed: failed}
	}
	return nil
}

// rowRejected reports whether err rejects one row and leaves the
// transaction usable: a constraint (CHECK, NOT NULL, a trigger's
// RAISE(ABORT)), a value too big or of the wrong type. Everything else
// (I/O, busy, full disk) fails the whole Put.
func rowRejected(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return true
	}
	return false
}

// Get returns the stored result for msgID, or ok=false.
func (s *SQLite) Get(ctx context.Context, msgID string) (r Result, ok bool, err error) {
	var number, factors, processed string
	err = s.db.QueryRowContext(ctx, `SELECT msg_id, number, factors, topic, partition, "offset", processed_at
		FROM results WHERE msg_id = ?`, msgID).Scan(&r.MsgID, &number, &factors, &r.Topic, &r.Partition, &r.Offset, &processed)
	if err == sql.ErrNoRows {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("sqlite get %s: %w", msgID, err)
	}
	if r.Number, err = strconv.ParseUint(number, 10, 64); err != nil {
		return Result{}, false, fmt.Errorf("decode number of %s: %w", msgID, err)
	}
	if err = json.Unmarshal([]byte(factors), &r.Factors); err != nil {
		return Result{}, false, fmt.Errorf("decode factors of %s: %w", msgID, err)
	}
	if r.ProcessedAt, err = time.Parse(time.RFC3339Nano, processed); err != nil {
		return Result{}, false, fmt.Errorf("decode processed_at of %s: %w", msgID, err)
	}
	return r, true, nil
}

// Count returns the number of stored results.
func (s *SQLite) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM results`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite count: %w", err)
	}
	return n, nil
}

// Close implements Store.
func (s *SQLite) Close() error { return s.db.Close() }

// MsgIDs returns every stored msg_id.
func (s *SQLite) MsgIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT msg_id FROM results`)
	if err != nil {
		return nil, fmt.Errorf("sqlite list msg_ids: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite scan msg_id: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite list msg_ids: %w", err)
	}
	return ids, nil
}
