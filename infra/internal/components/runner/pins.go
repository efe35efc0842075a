package runner

// The GitHub Actions runner release the scale set installs, and the SHA-256
// of its linux-x64 archive. The digest is the one GitHub's "new self-hosted
// runner" page prints for this version; it was read from several independent
// published copies of that page, which agreed. The runner updates itself
// after registering (GitHub requires a recent version); this pin is what the
// first boot trusts.
const (
	RunnerVersion = "2.329.0"
	RunnerSHA256  = "194f1e1e4bd02f80b7e9633fc546084d8d4e19f3928a324d512ea53430102e1d"
)
