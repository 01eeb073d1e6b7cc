package io.openshell.gateway.compute;

import io.openshell.gateway.logs.SandboxLogs;
import io.openshell.gateway.sandbox.DriverMapping;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxCatalog;
import io.openshell.protocol.compute.v1.ComputeDriver;
import io.openshell.protocol.compute.v1.WatchSandboxesEvent;
import io.openshell.protocol.compute.v1.WatchSandboxesRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.RestartSettings;
import org.apache.pekko.stream.javadsl.RestartSource;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects a node's compute driver to the Sandbox actors: every watch event becomes a message to its
 * sandbox, and at start every sandbox the journal knows is reconciled (the driver runs it again, or
 * finishes deleting it).
 */
public final class ComputeRuntime {
  private static final Logger log = LoggerFactory.getLogger(ComputeRuntime.class);
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration RECONCILE_ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
  private static final int RECONCILE_ATTEMPTS = 6;
  private static final Duration RECONCILE_RETRY_DELAY = Duration.ofSeconds(2);

  private ComputeRuntime() {}

  public static void start(ActorSystem<?> system, ComputeDriver driver, ActorRef<SandboxCatalog.Command> catalog,
      ActorRef<SandboxLogs.Command> logs) {
    ClusterSharding sharding = ClusterSharding.get(system);
    RestartSettings restart = RestartSettings.create(Duration.ofMillis(500), Duration.ofSeconds(10), 0.2);
    // One event at a time keeps each sandbox's observations in the driver's order.
    RestartSource.withBackoff(restart, () -> driver.watchSandboxes(WatchSandboxesRequest.getDefaultInstance()))
        .mapAsync(1, event -> deliver(sharding, logs, event))
        .runWith(Sink.ignore(), system);

    reconcileAll(system, catalog, "gateway start");
  }

  /**
   * Asks every existing sandbox to make its node's driver run it again (or finish deleting it). A
   * sandbox that already runs there is left alone (the driver answers ALREADY_EXISTS).
   */
  public static void reconcileAll(ActorSystem<?> system, ActorRef<SandboxCatalog.Command> catalog, String why) {
    ClusterSharding sharding = ClusterSharding.get(system);
    AskPattern.<SandboxCatalog.Command, SandboxCatalog.Page>ask(catalog, SandboxCatalog.AllExisting::new,
            ASK_TIMEOUT, system.scheduler())
        .thenAccept(page -> {
          log.info("reconciling {} sandboxes with the compute driver ({})", page.sandboxes().size(), why);
          // Retried: right after a node is removed a message may still go to its dead shard region
          // (and be lost) until the coordinator has reallocated the shard. Reconcile is idempotent.
          Source.from(page.sandboxes())
              .mapAsync(4, view -> Patterns.retry(() -> sharding.entityRefFor(Sandbox.ENTITY_KEY, view.id())
                          .<Done>ask(Sandbox.Reconcile::new, RECONCILE_ATTEMPT_TIMEOUT),
                      RECONCILE_ATTEMPTS, RECONCILE_RETRY_DELAY, system)
                  .exceptionally(failure -> {
                    log.warn("could not reconcile sandbox_id={}: {}", view.id(), failure.toString());
                    return Done.getInstance();
                  }))
              .runWith(Sink.ignore(), system);
        });
  }

  private static CompletionStage<Done> deliver(ClusterSharding sharding, ActorRef<SandboxLogs.Command> logs,
      WatchSandboxesEvent event) {
    switch (event.getPayloadCase()) {
      case SANDBOX -> {
        var sandbox = event.getSandbox().getSandbox();
        return sharding.entityRefFor(Sandbox.ENTITY_KEY, sandbox.getId())
            .<Done>ask(replyTo -> new Sandbox.DriverObserved(DriverMapping.observation(sandbox.getStatus()), replyTo), ASK_TIMEOUT)
            .exceptionally(failure -> logged(sandbox.getId(), failure));
      }
      case DELETED -> {
        String id = event.getDeleted().getSandboxId();
        return sharding.entityRefFor(Sandbox.ENTITY_KEY, id)
            .<Done>ask(Sandbox.DriverDeleted::new, ASK_TIMEOUT)
            .exceptionally(failure -> logged(id, failure));
      }
      case PLATFORM_EVENT -> {
        var platform = event.getPlatformEvent();
        log.info("platform event sandbox_id={} source={} type={} reason={}: {}", platform.getSandboxId(),
            platform.getEvent().getSource(), platform.getEvent().getType(), platform.getEvent().getReason(),
            platform.getEvent().getMessage());
        logs.tell(new SandboxLogs.RecordEvent(platform.getSandboxId(), SandboxLogs.fromDriver(platform.getEvent())));
        return CompletableFuture.completedFuture(Done.getInstance());
      }
      default -> {
        return CompletableFuture.completedFuture(Done.getInstance());
      }
    }
  }

  private static Done logged(String sandboxId, Throwable failure) {
    log.warn("could not deliver a driver event to sandbox_id={}: {}", sandboxId, failure.toString());
    return Done.getInstance();
  }
}
