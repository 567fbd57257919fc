[package]
name = "konfig"
edition = "0.0.1"
version = "0.1.0"
