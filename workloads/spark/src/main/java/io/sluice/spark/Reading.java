package io.sluice.spark;

import java.io.Serializable;
import java.sql.Timestamp;

/** A valid event, as far as the stream job uses it. */
public class Reading implements Serializable {
  private String id;
  private String site;
  private String device;
  private String kind;
  private String unit;
  private double value;
  private Timestamp at;

  public String getId() { return id; }
  public void setId(String v) { id = v; }
  public String getSite() { return site; }
  public void setSite(String v) { site = v; }
  public String getDevice() { return device; }
  public void setDevice(String v) { device = v; }
  public String getKind() { return kind; }
  public void setKind(String v) { kind = v; }
  public String getUnit() { return unit; }
  public void setUnit(String v) { unit = v; }
  public double getValue() { return value; }
  public void setValue(double v) { value = v; }
  public Timestamp getAt() { return at; }
  public void setAt(Timestamp v) { at = v; }
}
