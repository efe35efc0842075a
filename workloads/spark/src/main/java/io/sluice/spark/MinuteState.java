package io.sluice.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of one site, kind, unit and minute: the ids counted (so a
 * record delivered twice counts once), the extremes and the exact sum as a
 * decimal string (a double sum would depend on the order events arrive in).
 */
public class MinuteState implements Serializable {
  private List<String> ids = new ArrayList<>();
  private double min;
  private double max;
  private String sum = "0";

  public List<String> getIds() { return ids; }
  public void setIds(List<String> v) { ids = v; }
  public double getMin() { return min; }
  public void setMin(double v) { min = v; }
  public double getMax() { return max; }
  public void setMax(double v) { max = v; }
  public String getSum() { return sum; }
  public void setSum(String v) { sum = v; }
}
