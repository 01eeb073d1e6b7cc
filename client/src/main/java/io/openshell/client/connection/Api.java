package io.openshell.client.connection;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.openshell.protocol.v1.OpenShellClient;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;

/** The gRPC client to one gateway, created on first use (commands that need no gateway start no actor system). */
public final class Api implements AutoCloseable {
  private final String endpoint;
  private final Optional<GatewayTls> tls;
  private ActorSystem<Void> system;
  private OpenShellClient client;

  /** {@code tls}: the files for an https endpoint (empty: plaintext, or the JDK's default trust for https). */
  public Api(String endpoint, Optional<GatewayTls> tls) {
    this.endpoint = endpoint;
    this.tls = tls;
  }

  /** The chosen gateway, with the TLS files that belong to it. */
  public static Api to(GatewaySelection.Choice choice, Environment environment) {
    return new Api(choice.endpoint(), GatewayTls.forEndpoint(choice.endpoint(), environment));
  }

  public String endpoint() {
    return endpoint;
  }

  public synchronized OpenShellClient client() {
    if (client == null) {
      URI uri = URI.create(endpoint);
      boolean https = "https".equals(uri.getScheme());
      if (!(https || "http".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new CliException("unsupported gateway endpoint '" + endpoint + "': use http://host:port or https://host:port");
      }
      javax.net.ssl.SSLContext sslContext = tls.map(GatewayTls::sslContext).orElse(null);
      system = ActorSystem.create(Behaviors.empty(), "openshell-cli", com.typesafe.config.ConfigFactory.load("openshell-cli"));
      GrpcClientSettings settings = GrpcClientSettings.connectToServiceAt(uri.getHost(),
              uri.getPort() < 0 ? (https ? 443 : 80) : uri.getPort(), system)
          .withTls(https).withConnectionAttempts(1);
      if (sslContext != null) settings = settings.withSslContext(sslContext);
      client = OpenShellClient.create(settings, system);
    }
    return client;
  }

  public synchronized ActorSystem<Void> system() {
    client();
    return system;
  }

  /** Waits for a unary call and turns gRPC failures into one clear line. */
  public <T> T await(CompletionStage<T> call, Duration timeout) {
    try {
      return call.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw describe(e.getCause());
    } catch (TimeoutException e) {
      throw new CliException("the gateway at " + endpoint + " did not answer within " + timeout.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  public CliException describe(Throwable failure) {
    if (failure instanceof CliException cli) return cli;
    Status status = Status.fromThrowable(failure);
    Throwable tls = failure;
    while (tls != null && !(tls instanceof javax.net.ssl.SSLException)) tls = tls.getCause();
    if (status.getCode() == Status.Code.UNAVAILABLE && tls != null) {
      // The innermost cause says why (an unknown CA, a name mismatch); the outer ones only that TLS failed.
      Throwable reason = tls;
      while (reason.getCause() != null) reason = reason.getCause();
      return new CliException("TLS with the gateway at " + endpoint + " failed (" + reason.getMessage() + "); for a gateway"
          + " other than the local one set OPENSHELL_TLS_CA to the CA that signed its certificate, and OPENSHELL_TLS_CERT"
          + " and OPENSHELL_TLS_KEY to your user certificate");
    }
    if (status.getCode() == Status.Code.UNAVAILABLE && failure instanceof StatusRuntimeException
        && (status.getDescription() == null || status.getDescription().contains("io exception")
            || status.getDescription().contains("Connection refused"))) {
      return new CliException("cannot reach the gateway at " + endpoint
          + " (is it running? start one with 'openshell gateway start', or set OPENSHELL_GATEWAY_ENDPOINT)");
    }
    String description = status.getDescription() == null ? String.valueOf(failure.getMessage()) : status.getDescription();
    return new CliException(description);
  }

  @Override
  public synchronized void close() {
    if (client != null) {
      try {
        client.close().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      system.terminate();
    }
  }
}
