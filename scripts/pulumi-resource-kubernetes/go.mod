module nodion.local/pulumi-resource-kubernetes

go 1.24.7

// The provider's go.mod replaces its sdk/v4 with a sibling directory, which a dependent module
// does not see; this module requires a published sdk/v4 instead. pkg/v3 older than 3.225 does
// not compile against the sdk/v3 that the rest of the graph selects.
require (
	github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260115033456-f47bc2d6f199
	github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.29.0
	github.com/pulumi/pulumi/pkg/v3 v3.225.1
	github.com/pulumi/pulumi/sdk/v3 v3.226.0
)
