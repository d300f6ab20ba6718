// Package idemtest holds an in-memory idempotency.Store for tests. It is
// checked against the DynamoDB store (on moto) by the same table of cases,
// so a test on it proves what the Lambda would do. No Lambda links it.
package idemtest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
)

// Memory is an idempotency.Store with the DynamoDB store's semantics.
type Memory struct {
	Now       func() time.Time
	Retention time.Duration // default idempotency.DefaultRetention

	mu    sync.Mutex
	recs  map[string]idempotency.Record
	owner int
}

var _ idempotency.Store = (*Memory)(nil)

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Claim implements idempotency.Store.
func (m *Memory) Claim(_ context.Context, c idempotency.Claim) (idempotency.Outcome, *idempotency.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string]idempotency.Record{}
	}
	now := m.now()
	r, ok := m.recs[c.Key]
	if ok && r.Expiration.Before(now) {
		ok, r = false, idempotency.Record{Attempt: r.Attempt}
	}
	expiredLease := r.Status == idempotency.StatusInProgress && !r.InProgressExpiration.After(now)
	take := !ok || r.Status == idempotency.StatusResend ||
		(c.Takeover > 0 && r.Attempt == c.Takeover && (r.Status == idempotency.StatusUnknown || expiredLease))
	if !take {
		old := r
		switch {
		case r.Status == idempotency.StatusCompleted:
			return idempotency.AlreadyCompleted, &old, nil
		case r.Status == idempotency.StatusInProgress && !expiredLease:
			return idempotency.HeldElsewhere, &old, nil
		}
		if old.Detail == "" {
			old.Detail = fmt.Sprintf("attempt %d was claimed by a worker that recorded no outcome before its lease ended", old.Attempt)
		}
		return idempotency.OutcomeUnknown, &old, nil
	}
	m.owner++
	r = idempotency.Record{Key: c.Key, Status: idempotency.StatusInProgress, InProgressExpiration: c.LeaseUntil,
		ClaimedAt: now, Attempt: r.Attempt + 1, Owner: strconv.Itoa(m.owner), Expiration: now.Add(m.retention())}
	m.recs[c.Key] = r
	out := r
	return idempotency.Claimed, &out, nil
}

func (m *Memory) retention() time.Duration {
	if m.Retention > 0 {
		return m.Retention
	}
	return idempotency.DefaultRetention
}

// Complete implements idempotency.Store.
func (m *Memory) Complete(_ context.Context, rec idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.recs[rec.Key]
	r.Expiration = m.now().Add(m.retention())
	r.Key, r.Status, r.InProgressExpiration = rec.Key, idempotency.StatusCompleted, time.Time{}
	r.HTTPStatus, r.RewardAmount, r.TxHash, r.Detail, r.Answer = rec.HTTPStatus, rec.RewardAmount, rec.TxHash, "", ""
	m.recs[rec.Key] = r
	return nil
}

func (m *Memory) mine(rec idempotency.Record) (idempotency.Record, bool) {
	r, ok := m.recs[rec.Key]
	return r, ok && r.Status == idempotency.StatusInProgress && r.Owner == rec.Owner
}

// Release implements idempotency.Store.
func (m *Memory) Release(_ context.Context, rec idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.mine(rec)
	if !ok {
		return idempotency.ErrNotHeld
	}
	if r.Attempt > 1 {
		r.Status, r.InProgressExpiration, r.Owner = idempotency.StatusResend, time.Time{}, ""
		m.recs[rec.Key] = r
		return nil
	}
	delete(m.recs, rec.Key)
	return nil
}

// Unknown implements idempotency.Store.
func (m *Memory) Unknown(_ context.Context, rec idempotency.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.mine(rec)
	if !ok {
		return idempotency.ErrNotHeld
	}
	r.Status, r.InProgressExpiration = idempotency.StatusUnknown, time.Time{}
	r.Detail, r.Answer, r.HTTPStatus = rec.Detail, rec.Answer, rec.HTTPStatus
	m.recs[rec.Key] = r
	return nil
}

// Get returns a copy of key's record and whether there is one.
func (m *Memory) Get(key string) (idempotency.Record, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[key]
	return r, ok
}

// Len is the number of records.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}
