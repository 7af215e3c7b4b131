package embedded

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

const trustedRootFile = "targets/6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66.trusted_root.json"

// publicGoodCopy is a writable copy of the embedded public-good snapshot,
// for feeding altered files to the verification.
func publicGoodCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	sub, err := fs.Sub(publicGoodFiles, "publicgood")
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, path)
		if err != nil {
			return err
		}
		m[path] = &fstest.MapFile{Data: b, Mode: 0o444}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 6 {
		t.Fatalf("embedded public-good snapshot has %d files, want 6", len(m))
	}
	return m
}

func verifyCopy(files fs.FS) (*Snapshot, error) {
	return verifySnapshot(&tufRepo{name: publicGoodName, mirror: publicGoodMirror, files: files, target: trustedRootName})
}

func file(t *testing.T, m fstest.MapFS, name string) []byte {
	t.Helper()
	f, ok := m[name]
	if !ok {
		t.Fatalf("no %s in the snapshot", name)
	}
	return bytes.Clone(f.Data)
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceOnce replaces exactly one occurrence of old, failing the test if
// there is not exactly one: a tampering test must tamper.
func replaceOnce(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	if n := bytes.Count(data, []byte(old)); n != 1 {
		t.Fatalf("%q occurs %d times, want 1", old, n)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

// signatureCount is the number of non-empty signatures in a metadata file.
func signatureCount(data []byte) int {
	return bytes.Count(data, []byte(`"sig": "`)) - bytes.Count(data, []byte(`"sig": ""`))
}

// corruptSignatures changes one hex digit in the middle of each of the
// first n non-empty signatures, keeping the JSON and the DER length valid.
func corruptSignatures(t *testing.T, data []byte, n int) []byte {
	t.Helper()
	out := bytes.Clone(data)
	marker := []byte(`"sig": "`)
	done, from := 0, 0
	for done < n {
		i := bytes.Index(out[from:], marker)
		if i < 0 {
			t.Fatalf("only %d signatures to corrupt, want %d", done, n)
		}
		start := from + i + len(marker)
		from = start
		if out[start] == '"' { // an empty signature slot
			continue
		}
		pos := start + 40
		if out[pos] == '0' {
			out[pos] = '1'
		} else {
			out[pos] = '0'
		}
		done++
	}
	return out
}

// refused checks that err is a *VerifyError for the given step and file
// whose cause matches cause (a sentinel or a go-tuf error type).
func refused(t *testing.T, err error, step error, file string, cause error) {
	t.Helper()
	if err == nil {
		t.Fatal("the altered snapshot verified")
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("error is %T, not *VerifyError: %v", err, err)
	}
	if ve.Step != step || !errors.Is(err, step) {
		t.Fatalf("refused at step %v, want %v: %v", ve.Step, step, err)
	}
	if ve.File != file {
		t.Fatalf("refused file %q, want %q: %v", ve.File, file, err)
	}
	if ve.Repository != publicGoodMirror {
		t.Fatalf("repository %q", ve.Repository)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Fatalf("cause %v does not match %T: %v", ve.Err, cause, err)
	}
}

func TestUnalteredCopyVerifies(t *testing.T) {
	// The baseline every tampering test departs from.
	s, err := verifyCopy(publicGoodCopy(t))
	if err != nil {
		t.Fatal(err)
	}
	want, err := PublicGood()
	if err != nil {
		t.Fatal(err)
	}
	if s.Verified != want.Verified || !s.Taken.Equal(want.Taken) || !bytes.Equal(s.TrustedRoot, want.TrustedRoot) {
		t.Fatalf("copy verified as %+v, embedded as %+v", s, want)
	}
}

func TestTrustedRootByteChangedIsRefused(t *testing.T) {
	m := publicGoodCopy(t)
	// Swap one character of the Rekor v2 log key: still valid JSON, not the signed bytes.
	m[trustedRootFile].Data = replaceOnce(t, file(t, m, trustedRootFile), "t8rlp1kn", "t8rlp1kN")
	_, err := verifyCopy(m)
	refused(t, err, ErrTargetMismatch, trustedRootFile, &metadata.ErrLengthOrHashMismatch{})
}

func TestTrustedRootLengthChangedIsRefused(t *testing.T) {
	m := publicGoodCopy(t)
	m[trustedRootFile].Data = append(file(t, m, trustedRootFile), '\n')
	_, err := verifyCopy(m)
	refused(t, err, ErrTargetMismatch, trustedRootFile, &metadata.ErrLengthOrHashMismatch{})
}

func TestTrustedRootMissingIsRefused(t *testing.T) {
	m := publicGoodCopy(t)
	delete(m, trustedRootFile)
	_, err := verifyCopy(m)
	refused(t, err, ErrTargetMismatch, trustedRootFile, ErrMissingFile)
}

func TestTargetsBrokenSignaturesAreRefused(t *testing.T) {
	// targets.json carries 5 signatures and needs 3: breaking 3 leaves 2.
	m := publicGoodCopy(t)
	m["14.targets.json"].Data = corruptSignatures(t, file(t, m, "14.targets.json"), 3)
	_, err := verifyCopy(m)
	refused(t, err, ErrTargets, "14.targets.json", &metadata.ErrUnsignedMetadata{})
}

func TestTargetsOneBrokenSignatureOfFiveStillMeetsThreshold(t *testing.T) {
	// The other side of the threshold: 4 valid signatures of 3 needed.
	m := publicGoodCopy(t)
	m["14.targets.json"].Data = corruptSignatures(t, file(t, m, "14.targets.json"), 1)
	if _, err := verifyCopy(m); err != nil {
		t.Fatalf("4 of 5 valid signatures refused: %v", err)
	}
}

func TestTargetsSignedContentChangedIsRefused(t *testing.T) {
	// Point targets.json at another trusted_root.json (and provide it):
	// every signature over "signed" breaks.
	m := publicGoodCopy(t)
	m["14.targets.json"].Data = replaceOnce(t, file(t, m, "14.targets.json"), `"length": 6787`, `"length": 6788`)
	m[trustedRootFile].Data = append(file(t, m, trustedRootFile), '\n')
	_, err := verifyCopy(m)
	refused(t, err, ErrTargets, "14.targets.json", &metadata.ErrUnsignedMetadata{})
}

func TestTimestampNamingAnotherSnapshotVersionIsRefused(t *testing.T) {
	// Altered: the embedded timestamp, made to name snapshot 164, with the
	// snapshot provided under that name. Its signature no longer verifies.
	m := publicGoodCopy(t)
	m["timestamp.json"].Data = replaceOnce(t, file(t, m, "timestamp.json"), `"version": 165`, `"version": 164`)
	m["164.snapshot.json"] = &fstest.MapFile{Data: file(t, m, "165.snapshot.json")}
	_, err := verifyCopy(m)
	refused(t, err, ErrTimestamp, "timestamp.json", &metadata.ErrUnsignedMetadata{})
}

func TestGenuineTimestampOfAnotherSnapshotIsRefused(t *testing.T) {
	// A genuinely signed timestamp (v401, from sigstore/root-signing) that
	// names snapshot 159, served with snapshot 165's bytes under 159's name:
	// every signature holds, the versions do not match.
	m := publicGoodCopy(t)
	m["timestamp.json"].Data = testdata(t, "timestamp.401.json")
	m["159.snapshot.json"] = &fstest.MapFile{Data: file(t, m, "165.snapshot.json")}
	_, err := verifyCopy(m)
	refused(t, err, ErrSnapshot, "159.snapshot.json", &metadata.ErrBadVersionNumber{})

	// And without a 159.snapshot.json at all.
	delete(m, "159.snapshot.json")
	_, err = verifyCopy(m)
	refused(t, err, ErrSnapshot, "159.snapshot.json", ErrMissingFile)
}

func TestAnotherGenuineTimestampOfTheSameSnapshotVerifiesAtItsOwnTime(t *testing.T) {
	// Timestamp v769 (an earlier one naming the same snapshot 165) is as
	// genuine as the embedded v799; the snapshot's time follows it.
	m := publicGoodCopy(t)
	m["timestamp.json"].Data = testdata(t, "timestamp.769.json")
	s, err := verifyCopy(m)
	if err != nil {
		t.Fatal(err)
	}
	wantTaken := time.Date(2026, 8, 29, 19, 19, 49, 0, time.UTC) // its expiry 2026-09-05T19:19:49Z minus 7 days
	wantExpires := time.Date(2026, 9, 5, 19, 19, 49, 0, time.UTC)
	if !s.Taken.Equal(wantTaken) || !s.Expires.Equal(wantExpires) {
		t.Fatalf("taken %s expires %s, want %s and %s", s.Taken, s.Expires, wantTaken, wantExpires)
	}
	if !strings.Contains(s.Verified, "timestamp v769") {
		t.Fatalf("Verified = %q", s.Verified)
	}
}

func TestTimestampSignatureBrokenIsRefused(t *testing.T) {
	m := publicGoodCopy(t)
	m["timestamp.json"].Data = corruptSignatures(t, file(t, m, "timestamp.json"), 1)
	_, err := verifyCopy(m)
	refused(t, err, ErrTimestamp, "timestamp.json", &metadata.ErrUnsignedMetadata{})
}

func TestSnapshotChangedIsRefused(t *testing.T) {
	// Point snapshot.json at another targets version (and provide it).
	m := publicGoodCopy(t)
	m["165.snapshot.json"].Data = replaceOnce(t, file(t, m, "165.snapshot.json"), `"version": 14`, `"version": 13`)
	m["13.targets.json"] = &fstest.MapFile{Data: file(t, m, "14.targets.json")}
	_, err := verifyCopy(m)
	refused(t, err, ErrSnapshot, "165.snapshot.json", &metadata.ErrUnsignedMetadata{})
}

func TestRootChainIsRequired(t *testing.T) {
	// Without root v15, the final root is v14, which expired on 2026-06-22,
	// before the snapshot's time: nothing after it may be trusted.
	m := publicGoodCopy(t)
	delete(m, "15.root.json")
	_, err := verifyCopy(m)
	refused(t, err, ErrTimestamp, "timestamp.json", &metadata.ErrExpiredMetadata{})
}

func TestRootFileNamedForAnotherVersionIsRefused(t *testing.T) {
	// Root v15 served as 16.root.json: go-tuf accepts the root itself (it
	// is the next version), the repository layout does not.
	m := publicGoodCopy(t)
	m["16.root.json"] = m["15.root.json"]
	delete(m, "15.root.json")
	_, err := verifyCopy(m)
	refused(t, err, ErrRootChain, "16.root.json", nil)
	if !strings.Contains(err.Error(), "holds root version 15") {
		t.Fatalf("unexpected cause: %v", err)
	}
}

func TestRootChangedIsRefused(t *testing.T) {
	// Root v15 with its expiry moved: no longer signed by root v14's keys.
	m := publicGoodCopy(t)
	m["15.root.json"].Data = replaceOnce(t, file(t, m, "15.root.json"), "2026-11-20T13:58:18Z", "2027-11-20T13:58:18Z")
	_, err := verifyCopy(m)
	refused(t, err, ErrRootChain, "15.root.json", &metadata.ErrUnsignedMetadata{})
}

func TestRootChainFromAnotherAnchorIsRefused(t *testing.T) {
	// GitHub's root cannot start the public-good chain.
	m := publicGoodCopy(t)
	m["14.root.json"] = &fstest.MapFile{Data: GitHubTUFRoot()}
	_, err := verifyCopy(m)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Step != ErrRootChain {
		t.Fatalf("a chain from another repository's root was not refused at the root chain: %v", err)
	}
}

func TestSnapshotTimeFallsBackWithoutTUFOnCIPeriod(t *testing.T) {
	m := publicGoodCopy(t)
	root, err := metadata.Root().FromBytes(file(t, m, "15.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := metadata.Timestamp().FromBytes(file(t, m, "timestamp.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := snapshotTime(root, ts), time.Date(2026, 10, 3, 1, 39, 25, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("with the tuf-on-ci period: %s, want %s", got, want)
	}
	delete(root.Signed.Roles[metadata.TIMESTAMP].UnrecognizedFields, "x-tuf-on-ci-expiry-period")
	if got, want := snapshotTime(root, ts), ts.Signed.Expires; !got.Equal(want) {
		t.Fatalf("without it: %s, want the timestamp's expiry %s", got, want)
	}
	root.Signed.Expires = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if got, want := snapshotTime(root, ts), root.Signed.Expires; !got.Equal(want) {
		t.Fatalf("without it, root expiring first: %s, want %s", got, want)
	}
}
