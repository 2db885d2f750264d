package credstore

import (
	"sync"

	"github.com/zalando/go-keyring"
)

// MemoryBackend is an in-process keychain with go-keyring's semantics, for tests of everything
// above the keychain. The real keychain is tested against the Secret Service (keychain_test.go).
type MemoryBackend struct {
	mu    sync.Mutex
	items map[string]string
}

// NewMemoryBackend returns an empty in-memory keychain.
func NewMemoryBackend() *MemoryBackend { return &MemoryBackend{items: map[string]string{}} }

func (m *MemoryBackend) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *MemoryBackend) Set(service, user, password string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[service+"\x00"+user] = password
	return nil
}

func (m *MemoryBackend) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[service+"\x00"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, service+"\x00"+user)
	return nil
}

// Len reports how many items are held (tests assert deletion).
func (m *MemoryBackend) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// Memory returns a keychain store over a fresh in-memory backend.
func Memory() Store { return &memoryStore{&Keychain{Backend: NewMemoryBackend()}} }

type memoryStore struct{ *Keychain }

func (memoryStore) Kind() string     { return KindMemory }
func (memoryStore) Describe() string { return "memory (this process only)" }
