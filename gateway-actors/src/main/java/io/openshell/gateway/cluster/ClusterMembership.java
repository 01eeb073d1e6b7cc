package io.openshell.gateway.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Cluster;

/**
 * Brings this node into its cluster: a single node joins itself; a clustered one joins through the
 * seed nodes (pekko does that from {@code pekko.cluster.seed-nodes}). Either way the gateway serves
 * nothing until this node is Up, so no API call lands on a node whose shards cannot be reached.
 */
public final class ClusterMembership {
  private ClusterMembership() {}

  public static CompletionStage<Done> joinAndAwaitUp(ActorSystem<?> system, ClusterSettings settings) {
    Cluster cluster = Cluster.get(Adapter.toClassic(system));
    CompletableFuture<Done> up = new CompletableFuture<>();
    cluster.registerOnMemberUp(() -> up.complete(Done.getInstance()));
    if (!settings.clustered()) {
      cluster.join(cluster.selfAddress());
      return up;
    }
    system.log().info("joining cluster through seed nodes {} as {}", settings.seeds(), cluster.selfAddress());
    return up.orTimeout(settings.joinTimeout().toMillis(), TimeUnit.MILLISECONDS).exceptionallyCompose(failure -> {
      if (failure instanceof TimeoutException) {
        return CompletableFuture.failedFuture(new IllegalStateException("this node did not join the cluster within "
            + settings.joinTimeout().toSeconds() + " s: start the first seed node (" + settings.seeds().get(0).host()
            + ":" + settings.seeds().get(0).port() + ") and check that every seed's --cluster-port is reachable"));
      }
      return CompletableFuture.failedFuture(failure);
    }).thenApply(done -> {
      system.log().info("cluster member up {}", cluster.selfAddress());
      return done;
    });
  }
}
