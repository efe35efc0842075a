package simulate

import "fmt"

// Kind is a sensor kind with its unit, plausible range and alarm thresholds.
type Kind struct {
	Name     string
	Unit     string
	Min, Max float64
	// Warn and Crit are the values from which a reading is a warning or
	// critical (for door and smoke: the value 1).
	Warn, Crit float64
}

// Kinds are the sensor kinds the simulator knows, in a fixed order.
var Kinds = []Kind{
	{Name: "temperature", Unit: "C", Min: 16, Max: 28, Warn: 35, Crit: 45},
	{Name: "humidity", Unit: "%", Min: 30, Max: 60, Warn: 75, Crit: 90},
	{Name: "co2", Unit: "ppm", Min: 400, Max: 900, Warn: 1500, Crit: 2500},
	{Name: "occupancy", Unit: "people", Min: 0, Max: 40, Warn: 80, Crit: 120},
	{Name: "door", Unit: "state", Min: 0, Max: 0, Warn: 1, Crit: 1},
	{Name: "smoke", Unit: "state", Min: 0, Max: 0, Warn: 1, Crit: 1},
	{Name: "power", Unit: "kW", Min: 1, Max: 12, Warn: 18, Crit: 25},
}

// Site is one modelled site.
type Site struct {
	ID       string
	Name     string
	City     string
	Country  string
	Timezone string
}

// Device is one modelled device.
type Device struct {
	ID     string
	SiteID string
	Kind   Kind
	// Model names the hardware model; reference data keys thresholds by it.
	Model string
}

var cities = []struct{ city, country, tz string }{
	{"Amsterdam", "NL", "Europe/Amsterdam"}, {"Berlin", "DE", "Europe/Berlin"},
	{"Dublin", "IE", "Europe/Dublin"}, {"Lisbon", "PT", "Europe/Lisbon"},
	{"Madrid", "ES", "Europe/Madrid"}, {"Oslo", "NO", "Europe/Oslo"},
	{"Paris", "FR", "Europe/Paris"}, {"Prague", "CZ", "Europe/Prague"},
	{"Stockholm", "SE", "Europe/Stockholm"}, {"Vienna", "AT", "Europe/Vienna"},
	{"Warsaw", "PL", "Europe/Warsaw"}, {"Zurich", "CH", "Europe/Zurich"},
}

// ModelsPerKind is how many hardware models each kind has.
const ModelsPerKind = 3

// ModelName is the name of hardware model m (0-based) of a kind.
func ModelName(kind string, m int) string { return fmt.Sprintf("%s-m%d", kind, m+1) }

// Fleet returns the sites and devices of a fleet of the given size. Devices
// are spread round-robin over sites and kinds.
func Fleet(sites, devices int) ([]Site, []Device) {
	ss := make([]Site, sites)
	for i := range ss {
		c := cities[i%len(cities)]
		ss[i] = Site{
			ID:       fmt.Sprintf("site-%03d", i+1),
			Name:     fmt.Sprintf("%s %d", c.city, i/len(cities)+1),
			City:     c.city,
			Country:  c.country,
			Timezone: c.tz,
		}
	}
	ds := make([]Device, devices)
	for i := range ds {
		k := Kinds[i%len(Kinds)]
		ds[i] = Device{
			ID:     fmt.Sprintf("dev-%05d", i+1),
			SiteID: ss[i%sites].ID,
			Kind:   k,
			Model:  ModelName(k.Name, (i/len(Kinds))%ModelsPerKind),
		}
	}
	return ss, ds
}
