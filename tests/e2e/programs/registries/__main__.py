"""Declares what the `spec` config value (JSON) lists, so one program serves many tests.

spec = {"registries": [{"resource", "name", "type", "hostname"?, "username"?, "password"?: bool,
                        "adopt"?: id, "import"?: id}],
        "credentials": [{"resource", "region" | "registryId" | "registryIdFrom", "triggers"?}]}
"nameFrom" / "registryIdFrom" name an earlier registry whose id (unknown in a first preview)
becomes the name or registry id.
Passwords come from the secret config value `passwords` (JSON: resource name -> password).
"""

import json

import pulumi

import nodion_pulumi as nodion

config = pulumi.Config()
spec = json.loads(config.get("spec") or "{}")
passwords = config.get_secret("passwords") or pulumi.Output.secret("{}")

made: dict[str, nodion.ContainerRegistry] = {}
for item in spec.get("registries", []):
    resource = item["resource"]
    name = item.get("name")
    if "nameFrom" in item:  # unknown during a preview of a fresh stack
        name = made[item["nameFrom"]].id.apply(lambda id_: f"copy of {id_}")
    password = None
    if item.get("password"):
        password = passwords.apply(lambda text, r=resource: json.loads(text)[r])
    registry = nodion.ContainerRegistry(
        resource,
        name=name,
        registry_type=item.get("type"),
        hostname=item.get("hostname"),
        username=item.get("username"),
        password=password,
        adopt_id=item.get("adopt"),
        opts=pulumi.ResourceOptions(import_=item.get("import")),
    )
    made[resource] = registry
    pulumi.export(f"{resource}.id", registry.id)
    pulumi.export(f"{resource}.name", registry.name)
    pulumi.export(f"{resource}.hostname", registry.hostname)
    pulumi.export(f"{resource}.has_credentials", registry.has_credentials)

for item in spec.get("credentials", []):
    resource = item["resource"]
    if "registryIdFrom" in item:
        registry_id = made[item["registryIdFrom"]].id
    else:
        registry_id = item.get("registryId") or nodion.get_nodion_registry(item["region"]).id
    credentials = nodion.RegistryCredentials(
        resource, registry_id=registry_id, triggers=item.get("triggers")
    )
    pulumi.export(f"{resource}.id", credentials.id)
    pulumi.export(f"{resource}.username", credentials.username)
    pulumi.export(f"{resource}.password", credentials.password)
    pulumi.export(f"{resource}.docker_config_json", credentials.docker_config_json)
