package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wallboard/wallboard/internal/store"
)

// kvTimeout bounds one call on the state bucket.
const kvTimeout = 5 * time.Second

func stateKey(key string) string { return "s." + key }

// Get returns the value stored under key, or store.ErrNotFound.
func (k *KV) Get(key string) ([]byte, error) {
	b, err := k.bucket()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	e, err := b.Get(ctx, stateKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s from the cluster's state: %w", key, err)
	}
	return e.Value(), nil
}

// Put stores value under key.
func (k *KV) Put(key string, value []byte) error {
	b, err := k.bucket()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	if _, err := b.Put(ctx, stateKey(key), value); err != nil {
		return fmt.Errorf("failed to write %s to the cluster's state: %w", key, err)
	}
	return nil
}

// Delete removes key; a missing key is not an error.
func (k *KV) Delete(key string) error {
	b, err := k.bucket()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	if err := b.Delete(ctx, stateKey(key)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("failed to delete %s from the cluster's state: %w", key, err)
	}
	return nil
}
