# ruff: noqa: E501  (app headers are copied as the apps write them: one long line)
"""Writes the track fixtures in this folder (run once; the files are committed).

Each file imitates the header, namespaces and extensions of the app named in its
file name, with walks in Hackney at about 1.2 m/s. Point and segment counts are
fixed here and asserted in tests/geo/test_track_files.py.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

HERE = Path(__file__).parent
T0 = dt.datetime(2024, 5, 1, 14, 0, 0, tzinfo=dt.UTC)


def walk(n: int, lon0: float, lat0: float, heading_deg: float, step_s: int = 5,
         t0: dt.datetime = T0, speed: float = 1.2):
    """n points walking in a gentle curve: (lon, lat, time)."""
    pts = []
    lon, lat = lon0, lat0
    for i in range(n):
        pts.append((round(lon, 7), round(lat, 7), t0 + dt.timedelta(seconds=i * step_s)))
        h = math.radians(heading_deg + 20 * math.sin(i / 15))
        d = speed * step_s
        lat += d * math.cos(h) / 111_320
        lon += d * math.sin(h) / (111_320 * math.cos(math.radians(lat)))
    return pts


def iso(t: dt.datetime, ms: bool = False) -> str:
    if ms:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def garmin() -> None:
    segs = [walk(120, -0.0550, 51.5450, 40), walk(80, -0.0480, 51.5500, 120,
                                                     t0=T0 + dt.timedelta(minutes=20))]
    body = []
    for seg in segs:
        body.append("    <trkseg>")
        for lon, lat, t in seg:
            body.append(
                f'      <trkpt lat="{lat:.7f}" lon="{lon:.7f}">\n        <ele>21.4</ele>\n'
                f"        <time>{iso(t)}</time>\n        <extensions>\n"
                "          <gpxtpx:TrackPointExtension>\n            <gpxtpx:atemp>17.0</gpxtpx:atemp>\n"
                "          </gpxtpx:TrackPointExtension>\n        </extensions>\n      </trkpt>"
            )
        body.append("    </trkseg>")
    text = f"""<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxx="http://www.garmin.com/xmlschemas/GpxExtensions/v3" xmlns:wptx1="http://www.garmin.com/xmlschemas/WaypointExtension/v1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" creator="eTrex 32x" version="1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd http://www.garmin.com/xmlschemas/GpxExtensions/v3 http://www8.garmin.com/xmlschemas/GpxExtensionsv3.xsd http://www.garmin.com/xmlschemas/TrackPointExtension/v1 http://www8.garmin.com/xmlschemas/TrackPointExtensionv1.xsd">
  <metadata>
    <link href="http://www.garmin.com">
      <text>Garmin International</text>
    </link>
    <time>{iso(T0)}</time>
  </metadata>
  <trk>
    <name>Team B sector 12</name>
    <extensions>
      <gpxx:TrackExtension>
        <gpxx:DisplayColor>Cyan</gpxx:DisplayColor>
      </gpxx:TrackExtension>
    </extensions>
{chr(10).join(body)}
  </trk>
</gpx>
"""
    (HERE / "garmin_etrex_two_segments.gpx").write_text(text)


def strava() -> None:
    seg = walk(150, -0.0600, 51.5420, 80, step_s=4)
    pts = "\n".join(
        f'   <trkpt lat="{lat:.7f}" lon="{lon:.7f}">\n    <ele>18.2</ele>\n    <time>{iso(t)}</time>\n'
        "    <extensions>\n     <gpxtpx:TrackPointExtension>\n      <gpxtpx:hr>96</gpxtpx:hr>\n"
        "     </gpxtpx:TrackPointExtension>\n    </extensions>\n   </trkpt>"
        for lon, lat, t in seg
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx creator="StravaGPX" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd http://www.garmin.com/xmlschemas/GpxExtensions/v3 http://www.garmin.com/xmlschemas/GpxExtensionsv3.xsd http://www.garmin.com/xmlschemas/TrackPointExtension/v1 http://www.garmin.com/xmlschemas/TrackPointExtensionv1.xsd" version="1.1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" xmlns:gpxx="http://www.garmin.com/xmlschemas/GpxExtensions/v3">
 <metadata>
  <time>{iso(T0)}</time>
 </metadata>
 <trk>
  <name>Afternoon Walk</name>
  <type>walking</type>
  <trkseg>
{pts}
  </trkseg>
 </trk>
</gpx>
"""
    (HERE / "strava_afternoon_walk.gpx").write_text(text)


def osmand() -> None:
    trk1 = walk(60, -0.0520, 51.5480, 200, step_s=10)
    trk2 = walk(40, -0.0510, 51.5440, 300, step_s=10, t0=T0 + dt.timedelta(hours=1))

    def pts(seg):
        return "\n".join(
            f'      <trkpt lat="{lat:.7f}" lon="{lon:.7f}">\n        <ele>24.7</ele>\n'
            f"        <time>{iso(t, ms=True)}</time>\n        <hdop>4.2</hdop>\n"
            "        <extensions>\n          <osmand:speed>1.2</osmand:speed>\n"
            "        </extensions>\n      </trkpt>"
            for lon, lat, t in seg
        )

    text = f"""<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<gpx version="1.1" creator="OsmAnd Maps 4.7.10 (4.7.10.0)" xmlns="http://www.topografix.com/GPX/1/1" xmlns:osmand="https://osmand.net" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">
  <metadata>
    <name>2024-05-01_15-00_Wed</name>
  </metadata>
  <wpt lat="51.5481000" lon="-0.0521000">
    <time>{iso(T0)}</time>
    <name>Checked garages</name>
    <extensions>
      <osmand:icon>special_star</osmand:icon>
    </extensions>
  </wpt>
  <trk>
    <trkseg>
{pts(trk1)}
    </trkseg>
  </trk>
  <trk>
    <trkseg>
{pts(trk2)}
    </trkseg>
  </trk>
  <extensions>
    <osmand:show_arrows>false</osmand:show_arrows>
  </extensions>
</gpx>
"""
    (HERE / "osmand_two_tracks.gpx").write_text(text)


def gpslogger() -> None:
    seg = walk(90, -0.0570, 51.5460, 10, step_s=6)
    pts = "\n".join(
        f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>30.0</ele><time>{iso(t, ms=True)}</time>'
        "<course>10.5</course><speed>1.2</speed><geoidheight>47.0</geoidheight><src>gps</src>"
        "<sat>9</sat><hdop>0.9</hdop><vdop>1.3</vdop><pdop>1.6</pdop></trkpt>"
        for lon, lat, t in seg
    )
    text = f"""<?xml version="1.0" encoding="UTF-8" ?><gpx version="1.0" creator="GPSLogger 131 - http://gpslogger.mendhak.com/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.topografix.com/GPX/1/0" xsi:schemaLocation="http://www.topografix.com/GPX/1/0 http://www.topografix.com/GPX/1/0/gpx.xsd"><time>{iso(T0)}</time><trk><trkseg>{pts}</trkseg></trk></gpx>
"""
    (HERE / "phone_gpslogger_v10.gpx").write_text(text)

    rows = ["time,lat,lon,elevation,accuracy,bearing,speed,satellites,provider,hdop,vdop,pdop,"
            "geoidheight,ageofdgpsdata,dgpsid,activity,battery,annotation"]
    for lon, lat, t in seg:
        rows.append(f"{iso(t, ms=True)},{lat:.7f},{lon:.7f},30.0,4.0,10.5,1.2,9,gps,0.9,1.3,1.6,"
                    "47.0,,,,88,")
    (HERE / "phone_gpslogger.csv").write_text("\n".join(rows) + "\n")


def route_and_kml() -> None:
    seg = walk(25, -0.0530, 51.5470, 90, step_s=30)
    rpts = "\n".join(f'    <rtept lat="{lat:.6f}" lon="{lon:.6f}"><name>R{i}</name></rtept>'
                     for i, (lon, lat, _) in enumerate(seg))
    (HERE / "planned_route.gpx").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Planner" xmlns="http://www.topografix.com/GPX/1/1">
  <rte>
    <name>Canal towpath check</name>
{rpts}
  </rte>
</gpx>
""")
    coords = " ".join(f"{lon:.7f},{lat:.7f},0" for lon, lat, _ in seg)
    (HERE / "google_earth_line.kml").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2" xmlns:kml="http://www.opengis.net/kml/2.2" xmlns:atom="http://www.w3.org/2005/Atom">
<Document>
  <name>Towpath.kml</name>
  <Style id="s_ylw-pushpin"><LineStyle><color>ff0000ff</color><width>3</width></LineStyle></Style>
  <Placemark>
    <name>Start point</name>
    <Point><coordinates>{seg[0][0]:.7f},{seg[0][1]:.7f},0</coordinates></Point>
  </Placemark>
  <Placemark>
    <name>Towpath walked</name>
    <styleUrl>#s_ylw-pushpin</styleUrl>
    <LineString>
      <tessellate>1</tessellate>
      <coordinates>
        {coords}
      </coordinates>
    </LineString>
  </Placemark>
</Document>
</kml>
""")
    tr = walk(30, -0.0545, 51.5465, 150, step_s=5)
    whens = "\n".join(f"        <when>{iso(t)}</when>" for _, _, t in tr)
    gxc = "\n".join(f"        <gx:coord>{lon:.7f} {lat:.7f} 25</gx:coord>" for lon, lat, _ in tr)
    (HERE / "gx_track.kml").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document>
  <Placemark>
    <name>Recorded walk</name>
    <gx:Track>
      <altitudeMode>clampToGround</altitudeMode>
{whens}
{gxc}
    </gx:Track>
  </Placemark>
</Document>
</kml>
""")


def broken() -> None:
    good = (HERE / "strava_afternoon_walk.gpx").read_text()
    (HERE / "truncated.gpx").write_text(good[: len(good) // 2])
    (HERE / "garbage.gpx").write_text("PK\x03\x04 this is not a GPS file at all \x00\x01"[4:] * 20)
    seg = walk(20, -0.0550, 51.5450, 40)
    rows = ["latitude,longitude,timestamp"]
    rows += [f"undefined,undefined,{iso(t)}" for _, _, t in seg]
    (HERE / "undefined_coordinates.csv").write_text("\n".join(rows) + "\n")
    pts = "\n".join(f'<trkpt lat="undefined" lon="undefined"><time>{iso(t)}</time></trkpt>'
                    for _, _, t in seg)
    (HERE / "undefined_coordinates.gpx").write_text(
        f'<?xml version="1.0"?><gpx version="1.1" creator="web app" '
        f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{pts}</trkseg></trk></gpx>\n')


if __name__ == "__main__":
    garmin()
    strava()
    osmand()
    gpslogger()
    route_and_kml()
    broken()
