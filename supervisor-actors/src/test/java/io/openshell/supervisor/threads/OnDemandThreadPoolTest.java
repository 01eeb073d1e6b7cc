package io.openshell.supervisor.threads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The supervisor's blocking-I/O executor, configured as the supervisor configures it. */
class OnDemandThreadPoolTest {
  private static ActorSystem<Void> system;
  private static Executor pool;

  @BeforeAll
  static void start() {
    system = ActorSystem.create(Behaviors.empty(), "on-demand-pool-test", ConfigFactory.parseString(
        "blocking-test-dispatcher { type = Dispatcher, executor = \"io.openshell.supervisor.threads.OnDemandThreadPool\","
            + " on-demand-thread-pool { max-threads = 64, keep-alive = 60s } }").withFallback(ConfigFactory.load()));
    pool = system.dispatchers().lookup(DispatcherSelector.fromConfig("blocking-test-dispatcher"));
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  @Test
  void tasksOneAfterAnotherReuseAnIdleThreadInsteadOfStartingNewOnes() throws Exception {
    Set<String> before = poolThreads();
    Set<String> used = ConcurrentHashMap.newKeySet();
    for (int i = 0; i < 500; i++) {
      CompletableFuture.runAsync(() -> used.add(Thread.currentThread().getName()), pool).get(10, TimeUnit.SECONDS);
    }
    Set<String> started = new HashSet<>(used);
    started.removeAll(before);
    // A thread hands itself back to the pool just after finishing its task, so the next task may on
    // rare occasions find none idle yet; a pool that started one per task would show 500.
    assertTrue(started.size() <= 4, "threads started for 500 sequential tasks: " + started);
    assertTrue(used.iterator().next().contains("blocking-test-dispatcher"), "named after the dispatcher: " + used);
  }

  private static Set<String> poolThreads() {
    Set<String> names = new HashSet<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().contains("blocking-test-dispatcher")) names.add(thread.getName());
    }
    return names;
  }

  @Test
  void blockedTasksEachGetAThreadSoNoneWaitsBehindABlockedRead() throws Exception {
    int blocked = 40;
    CountDownLatch allRunning = new CountDownLatch(blocked);
    CountDownLatch release = new CountDownLatch(1);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    for (int i = 0; i < blocked; i++) {
      pool.execute(() -> {
        threads.add(Thread.currentThread().getName());
        allRunning.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    try {
      assertTrue(allRunning.await(30, TimeUnit.SECONDS), "all blocked tasks run at once");
      assertEquals(blocked, threads.size());
    } finally {
      release.countDown();
    }
  }
}
