//go:build ignore

// Writes the two files main.go embeds, from the schema.json and terraform-mapping.json that the
// provider's Go module ships in cmd/pulumi-resource-kubernetes: the schema with its "version"
// set (as the provider's own generate.go does for a release), both compacted.
//
//	go run generate.go <directory of schema.json> <version>
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		fail("usage: go run generate.go <directory of schema.json> <version>")
	}
	source, version := os.Args[1], os.Args[2]

	var schema map[string]json.RawMessage
	raw, err := os.ReadFile(filepath.Join(source, "schema.json"))
	if err != nil {
		fail("reading the provider's schema: %v", err)
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		fail("the provider's schema.json is not a JSON object: %v", err)
	}
	// RawMessage values keep every number and string exactly as the module ships them.
	schema["version"], _ = json.Marshal(version)
	versioned, err := json.Marshal(schema)
	if err != nil {
		fail("re-encoding the schema: %v", err)
	}
	write("schema-embed.json", versioned)

	mapping, err := os.ReadFile(filepath.Join(source, "terraform-mapping.json"))
	if err != nil {
		fail("reading the provider's terraform mapping: %v", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, mapping); err != nil {
		fail("the provider's terraform-mapping.json is not JSON: %v", err)
	}
	write("terraform-mapping-embed.json", compact.Bytes())
}

func write(name string, data []byte) {
	if err := os.WriteFile(name, data, 0o644); err != nil {
		fail("writing %s: %v", name, err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "generate: "+format+"\n", args...)
	os.Exit(1)
}
