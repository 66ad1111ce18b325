// Command pulumi-resource-kubernetes serves pulumi-kubernetes' provider, built from its Go module.
//
// Why it exists: the provider's own cmd/pulumi-resource-kubernetes embeds schema-embed.json and
// terraform-mapping-embed.json, which its release build generates and the Go module does not
// ship, and the module's go.mod has a replace directive, so `go install` refuses it. The module
// does ship schema.json and terraform-mapping.json; scripts/ensure-kubernetes-plugin copies
// them here (the schema with its "version" set, as the provider's generate.go does) and builds
// this main, which makes the same call as the provider's own.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
