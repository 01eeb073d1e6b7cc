package io.openshell.client.connection;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** The process environment the CLI reads, injectable so tests never depend on the real home. */
public record Environment(Map<String, String> variables, String userHome) {

  public static Environment current() {
    return new Environment(System.getenv(), System.getProperty("user.home"));
  }

  public Optional<String> get(String name) {
    String value = variables.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
  }

  /** {@code ${XDG_STATE_HOME:-~/.local/state}/openshell}: what the CLI remembers between runs. */
  public Path stateDir() {
    return get("XDG_STATE_HOME").map(Path::of).orElse(Path.of(userHome, ".local", "state")).resolve("openshell");
  }

  /** {@code <state>/gateway}: the local gateway's state (same as the gateway's default). */
  public Path localGatewayStateDir() {
    return stateDir().resolve("gateway");
  }

  /** {@code ${XDG_CONFIG_HOME:-~/.config}/openshell}: files the user may read or edit, such as the managed ssh config. */
  public Path configDir() {
    return get("XDG_CONFIG_HOME").map(Path::of).orElse(Path.of(userHome, ".config")).resolve("openshell");
  }
}
