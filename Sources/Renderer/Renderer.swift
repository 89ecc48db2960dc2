// Renderer: raster, text, PNG, charts and the HTML report. Reads run records only.
