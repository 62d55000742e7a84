# Built-in resources only (terraform_data + local-exec): `init` downloads nothing and works offline.
terraform {
  required_version = ">= 1.4"
}
