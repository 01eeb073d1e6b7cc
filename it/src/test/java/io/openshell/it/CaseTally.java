package io.openshell.it;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the cases a suite tries and keeps every failure (the suite goes on after one), so its report
 * says how many cases ran and exactly which ones did not behave.
 */
final class CaseTally {
  interface Case {
    void run() throws Exception;
  }

  private final String suite;
  private final AtomicInteger tried = new AtomicInteger();
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());

  CaseTally(String suite) {
    this.suite = suite;
  }

  /** Runs one case; a failed assertion or an exception is recorded with the case's name. */
  void check(String name, Case body) {
    tried.incrementAndGet();
    try {
      body.run();
    } catch (Throwable failure) {
      failures.add(name + ": " + failure);
    }
  }

  int tried() {
    return tried.get();
  }

  /** The failures recorded since {@code from} failures were known (for one group of cases). */
  List<String> failuresSince(int from) {
    synchronized (failures) {
      return List.copyOf(failures.subList(from, failures.size()));
    }
  }

  int failureCount() {
    return failures.size();
  }

  String report() {
    StringBuilder out = new StringBuilder(suite + ": " + tried() + " cases tried, " + (tried() - failures.size()) + " passed");
    synchronized (failures) {
      for (String failure : failures) out.append("\n  FAILED ").append(failure);
    }
    return out.toString();
  }
}
