package io.openshell.client.connection;

import io.openshell.client.gateway.LocalGateway;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;

/**
 * Which gateway a command talks to: {@code --gateway-endpoint}, else {@code OPENSHELL_GATEWAY_ENDPOINT},
 * else the local gateway this CLI started (started now, in the background, if none runs).
 */
public final class GatewaySelection {
  private GatewaySelection() {}

  public enum Source { FLAG, ENVIRONMENT, LOCAL_RUNNING, LOCAL_NEW }

  public record Choice(String endpoint, Source source) {}

  /** Without starting anything: empty when only a new local gateway would do. */
  public static Optional<Choice> existing(String flag, Environment environment, LocalGateway local) {
    if (flag != null && !flag.isBlank()) return Optional.of(new Choice(flag.trim(), Source.FLAG));
    Optional<String> env = environment.get("OPENSHELL_GATEWAY_ENDPOINT");
    if (env.isPresent()) return Optional.of(new Choice(env.get().trim(), Source.ENVIRONMENT));
    return local.running().map(endpoint -> new Choice(endpoint, Source.LOCAL_RUNNING));
  }

  public static Choice choose(String flag, Environment environment, LocalGateway local, PrintWriter progress) {
    Optional<Choice> existing = existing(flag, environment, local);
    if (existing.isPresent()) return existing.get();
    progress.println("Starting local gateway (state: " + local.stateDir() + ")…");
    progress.flush();
    String endpoint = local.start(List.of("--port", "0", "--disable-tls"));
    progress.println("Local gateway listening on " + endpoint);
    progress.flush();
    return new Choice(endpoint, Source.LOCAL_NEW);
  }
}
