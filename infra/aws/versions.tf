# Versions: Terraform and providers pinned so a plan made today is the plan made next year.
# `terraform init` here downloads them from the registry (tests never run it; see docs/AWS.md).
terraform {
  # 1.9+: variable validations may refer to other variables; 1.11 is what the project uses.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100.0"
    }
    local = {
      source  = "hashicorp/local"
      version = "~> 2.5.2"
    }
  }
}

provider "aws" {
  region = var.region

  # Cost guard, first layer: every resource that takes tags gets these. The expiry tag
  # is added explicitly (it is computed at apply time, which default_tags cannot be).
  default_tags {
    tags = {
      project    = var.project
      owner      = var.owner
      stack      = var.name_prefix
      managed-by = "terraform"
    }
  }
}
