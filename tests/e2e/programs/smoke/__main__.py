import pulumi

from tests.e2e.smoke_provider import Echo

echo = Echo("echo", value=pulumi.Config().get("value") or "hello")
pulumi.export("value", echo.value)
pulumi.export("token", echo.token)
