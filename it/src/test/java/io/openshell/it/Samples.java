package io.openshell.it;

import java.util.Arrays;
import java.util.List;

/** Summaries of a benchmark's samples: the median is the upper middle one of an even count. */
final class Samples {
  private Samples() {}

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  static double median(List<Double> values) {
    return median(values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  static double max(double[] values) {
    return Arrays.stream(values).max().orElseThrow();
  }

  static long max(long[] values) {
    return Arrays.stream(values).max().orElseThrow();
  }
}
