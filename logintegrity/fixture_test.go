package logintegrity

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is an in-memory bucket for the pure tests of the walk; the
// emulator tests go through the SDK.
type memStore struct {
	mu   sync.Mutex
	objs map[string]memObj // "bucket\x00key"
	// fail makes Get of these keys fail as a denied read would.
	fail map[string]bool
	// sameLog, when set, is the content of every log file delivered, and
	// the store keeps one gzip copy of it for them all: a benchmark's
	// store then does not grow with the number of log files.
	sameLog   []byte
	sharedLog []byte
}

type memObj struct {
	body []byte
	meta map[string]string
}

func newMemStore() *memStore { return &memStore{objs: map[string]memObj{}, fail: map[string]bool{}} }

func (m *memStore) put(bucket, key string, body []byte, meta map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[bucket+"\x00"+key] = memObj{body: body, meta: meta}
}

func (m *memStore) get(bucket, key string) (memObj, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[bucket+"\x00"+key]
	return o, ok
}

func (m *memStore) del(bucket, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, bucket+"\x00"+key)
}

func (m *memStore) List(_ context.Context, bucket, prefix, after string, fn func(string) bool) error {
	m.mu.Lock()
	var keys []string
	for k := range m.objs {
		b, key, _ := strings.Cut(k, "\x00")
		if b == bucket && strings.HasPrefix(key, prefix) && key > after {
			keys = append(keys, key)
		}
	}
	m.mu.Unlock()
	sort.Strings(keys)
	for _, k := range keys {
		if !fn(k) {
			break
		}
	}
	return nil
}

func (m *memStore) Get(_ context.Context, bucket, key string) (io.ReadCloser, map[string]string, error) {
	if m.fail[key] {
		return nil, nil, errors.New("s3:GetObject on " + S3URL(bucket, key) + ": AccessDenied")
	}
	o, ok := m.get(bucket, key)
	if !ok && m.sharedLog != nil && strings.Contains(key, "/CloudTrail/") {
		o, ok = memObj{body: m.sharedLog}, true
	}
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", S3URL(bucket, key), ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(o.body)), o.meta, nil
}

type memKeys []PublicKey

func (k memKeys) PublicKeys(context.Context, string, time.Time, time.Time) ([]PublicKey, error) {
	return k, nil
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signer delivers digests and log files as CloudTrail does, with a key of
// its own.
type signer struct {
	key *rsa.PrivateKey
	pub PublicKey
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newSigner() signer {
	k := testKey()
	der := x509.MarshalPKCS1PublicKey(&k.PublicKey)
	return signer{key: k, pub: PublicKey{Value: der, Fingerprint: Fingerprint(der),
		Start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}}
}

// delivered is what a delivery wrote.
type delivered struct {
	digests []string // keys, oldest first
	logs    []string // log file keys
	sigs    []string
}

// deliver writes hours of hourly digests ending at first+1h, first+2h, …,
// each listing logsPer log files. breakAt (index, or -1) starts a new
// chain there, as after logging was off.
func (s signer) deliver(t testing.TB, st *memStore, c Chain, first time.Time, hours, logsPer, breakAt int) delivered {
	t.Helper()
	var out delivered
	var prevKey, prevSig, prevHash string
	for h := 0; h < hours; h++ {
		end := first.Add(time.Duration(h+1) * time.Hour)
		var logFiles []map[string]any
		for i := 0; i < logsPer; i++ {
			key := strings.Replace(c.ListPrefix(), "/CloudTrail-Digest/", "/CloudTrail/", 1) + end.Format("2006/01/02/") +
				fmt.Sprintf("%s_CloudTrail_%s_%sZ_%04d.json.gz", c.Account, c.Region, end.Format("20060102T1504"), i)
			content := []byte(fmt.Sprintf(`{"Records":[{"eventName":"Call%d","eventTime":%q}]}`, i, end.Format(time.RFC3339)))
			if st.sameLog != nil {
				content = st.sameLog
				if st.sharedLog == nil {
					st.sharedLog = gz(t, content)
				}
			} else {
				st.put(c.Bucket, key, gz(t, content), nil)
			}
			sum := sha256.Sum256(content)
			logFiles = append(logFiles, map[string]any{"s3Bucket": c.Bucket, "s3Object": key, "hashValue": hex.EncodeToString(sum[:]), "hashAlgorithm": "SHA-256"})
			out.logs = append(out.logs, key)
		}
		key := c.Key(end)
		d := map[string]any{
			"awsAccountId": c.Account, "digestStartTime": end.Add(-time.Hour).Format(time.RFC3339), "digestEndTime": end.Format(time.RFC3339),
			"digestS3Bucket": c.Bucket, "digestS3Object": key, "digestPublicKeyFingerprint": s.pub.Fingerprint,
			"digestSignatureAlgorithm": SignatureAlgorithm, "logFiles": logFiles,
			"previousDigestS3Bucket": nil, "previousDigestS3Object": nil, "previousDigestHashValue": nil,
			"previousDigestHashAlgorithm": nil, "previousDigestSignature": nil,
		}
		if h > 0 && h != breakAt {
			d["previousDigestS3Bucket"], d["previousDigestS3Object"] = c.Bucket, prevKey
			d["previousDigestHashValue"], d["previousDigestHashAlgorithm"] = prevHash, "SHA-256"
			d["previousDigestSignature"] = prevSig
		}
		raw, sig := s.sign(t, d)
		st.put(c.Bucket, key, gz(t, raw), map[string]string{"signature": sig, "signature-algorithm": SignatureAlgorithm})
		sum := sha256.Sum256(raw)
		prevKey, prevSig, prevHash = key, sig, hex.EncodeToString(sum[:])
		out.digests = append(out.digests, key)
		out.sigs = append(out.sigs, sig)
	}
	return out
}

// sign serializes a digest and signs it as CloudTrail does.
func (s signer) sign(t testing.TB, d map[string]any) ([]byte, string) {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	pd, err := ParseDigest(raw)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(StringToSign(pd, raw))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return raw, hex.EncodeToString(sig)
}
