package io.openshell.it;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.openshell.supervisor.SupervisorSettings;
import io.openshell.supervisor.session.GatewaySession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Many supervisors in one JVM, each the real {@link GatewaySession} (its own gRPC channel and HTTP/2
 * connection, Hello, heartbeats, reconnects) for one sandbox id, without SSH daemons or relays: the
 * load of idle sandboxes on a gateway. Started by {@link IdleSessionsBenchmark} in its own JVM.
 *
 * <p>Arguments: gateway endpoint, a file with one "sandbox-id credential" per line, sessions started per second.
 */
public final class SimulatedSupervisors {
  private SimulatedSupervisors() {}

  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    List<String> sandboxes = Files.readAllLines(Path.of(args[1])).stream().filter(line -> !line.isBlank()).toList();
    int perSecond = Integer.parseInt(args[2]);
    Config base = ConfigFactory.parseString("openshell.supervisor.ssh.daemon = off\npekko.loglevel = WARNING")
        .withFallback(ConfigFactory.load("openshell-supervisor"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "simulated-supervisors", base);
    AtomicInteger started = new AtomicInteger();
    Source.from(sandboxes)
        .throttle(perSecond, Duration.ofSeconds(1))
        .runForeach(line -> {
          String id = line.split(" ")[0];
          String credential = line.split(" ")[1];
          Config config = ConfigFactory.parseMap(Map.of("openshell.supervisor.sandbox-id", id,
              "openshell.supervisor.credential", credential, "openshell.supervisor.endpoint", endpoint)).withFallback(base).resolve();
          system.systemActorOf(GatewaySession.create(SupervisorSettings.fromConfig(config)), "session-" + id, Props.empty());
          int n = started.incrementAndGet();
          if (n % 1000 == 0 || n == sandboxes.size()) System.out.println("started " + n);
        }, system)
        .thenRun(() -> System.out.println("all started"));
    system.getWhenTerminated().toCompletableFuture().get();
  }
}
