package config

import "testing"

func TestIsDocumentationRange(t *testing.T) {
	for cidr, want := range map[string]bool{
		"203.0.113.0/24": true, "198.51.100.7/32": true, "192.0.2.0/25": true,
		"192.0.0.0/16": false, "20.50.1.0/24": false, "not-a-cidr": false,
	} {
		if got := IsDocumentationRange(cidr); got != want {
			t.Errorf("IsDocumentationRange(%q) = %v, want %v", cidr, got, want)
		}
	}
}
