"""Kubernetes: an image-pull Secret made from a Nodion registry's captured credentials, and a
Deployment whose image is on that registry and whose ``imagePullSecrets`` names the Secret.

The region comes from the ``region`` config value, default ``nbg`` (Nuremberg). Each example
defaults to a region of its own (the quickstart ``fra``) because a Nodion registry has exactly
one set of credentials, owned by one stack: two examples on one region, or an example on the
region your own project uses, would collide. Choose another with
``pulumi config set region <slug>`` (``ams``, ``hel``, ...).

Without a cluster, the resources are rendered to YAML files (apply them later with
``kubectl apply -f``); without ``renderDirectory``, they go to the cluster of the current
kubeconfig (or of the ``kubeconfig`` secret config value). The rendered Secret is plaintext,
so render outside any checkout:

    pulumi config set renderDirectory "$HOME/nodion-kubernetes/rendered"
    pulumi up
    kubectl apply -f "$HOME/nodion-kubernetes/rendered/1-manifest"

Rotate the credentials by changing a trigger; the same ``pulumi up`` writes the new password
into the Secret:

    pulumi config set --path 'triggers.rotation' 2
    pulumi up

The password stays a secret in the state and in every output. Rendered files are the one
exception: they hold the Secret in plaintext, as pulumi-kubernetes warns, so keep them out of
version control.
"""

import pulumi
import pulumi_kubernetes as kubernetes

import nodion_pulumi as nodion

# Not "fra": the quickstart (and the README's own example) use that region.
DEFAULT_REGION = "nbg"

config = pulumi.Config()
region = config.get("region") or DEFAULT_REGION
app = config.get("app") or "web"
tag = config.get("tag") or "latest"
namespace = config.get("namespace") or "default"
render_directory = config.get("renderDirectory")

registry = nodion.get_nodion_registry(region)
credentials = nodion.RegistryCredentials(
    f"{region}-pull",
    registry_id=registry.id,
    triggers=config.get_object("triggers"),
)

# enable_secret_mutable: a rotation updates the Secret in place. By default pulumi-kubernetes
# replaces a Secret whose data changes, and since the rotated credentials are replaced first
# (Nodion keeps one set per registry), the engine would then replace the Deployment too.
if render_directory:
    provider = kubernetes.Provider(
        "render", render_yaml_to_directory=render_directory, enable_secret_mutable=True
    )
else:
    # None keeps pulumi-kubernetes' own default: $KUBECONFIG or ~/.kube/config.
    provider = kubernetes.Provider(
        "cluster", kubeconfig=config.get_secret("kubeconfig"), enable_secret_mutable=True
    )
in_cluster = pulumi.ResourceOptions(provider=provider)

pull_secret = kubernetes.core.v1.Secret(
    "pull-secret",
    metadata=kubernetes.meta.v1.ObjectMetaArgs(name=f"nodion-{region}-pull", namespace=namespace),
    type="kubernetes.io/dockerconfigjson",
    # A secret Output: pulumi-kubernetes keeps it encrypted in the state.
    string_data={".dockerconfigjson": credentials.docker_config_json},
    opts=in_cluster,
)

# The image names the registry by the lookup's hostname, not the credentials' output: the
# Deployment's spec then does not depend on the credentials, and a rotation leaves it alone.
image = f"{registry.hostname}/{app}:{tag}"
labels = {"app": app}
deployment = kubernetes.apps.v1.Deployment(
    app,
    metadata=kubernetes.meta.v1.ObjectMetaArgs(name=app, namespace=namespace),
    spec=kubernetes.apps.v1.DeploymentSpecArgs(
        replicas=config.get_int("replicas") or 1,
        selector=kubernetes.meta.v1.LabelSelectorArgs(match_labels=labels),
        template=kubernetes.core.v1.PodTemplateSpecArgs(
            metadata=kubernetes.meta.v1.ObjectMetaArgs(labels=labels),
            spec=kubernetes.core.v1.PodSpecArgs(
                image_pull_secrets=[
                    kubernetes.core.v1.LocalObjectReferenceArgs(name=pull_secret.metadata.name)
                ],
                containers=[kubernetes.core.v1.ContainerArgs(name=app, image=image)],
            ),
        ),
    ),
    opts=in_cluster,
)

pulumi.export("registryHostname", credentials.hostname)
pulumi.export("registryUsername", credentials.username)
pulumi.export("registryPassword", credentials.password)
pulumi.export("dockerConfigJson", credentials.docker_config_json)
pulumi.export("pullSecretName", pull_secret.metadata.name)
pulumi.export("deploymentName", deployment.metadata.name)
pulumi.export("image", image)
