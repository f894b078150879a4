<?php
/**
 * The settings page (Settings → callswap): the server's URL, the site id and the selectors
 * to leave alone, through the Settings API (its nonce and the manage_options capability),
 * validated on save and escaped on output.
 *
 * @package callswap
 */

defined( 'ABSPATH' ) || exit;

/**
 * The server URL as the SDK is given it (no trailing slash), or null when it is not an
 * https:// URL. Plain http:// is accepted only for a loopback host (127.0.0.1, ::1,
 * localhost): a development machine, which browsers treat as secure too.
 *
 * @param string $url What the owner typed.
 * @return string|null
 */
function callswap_normalise_server_url( $url ) {
	$url = trim( $url );
	if ( '' === $url || strlen( $url ) > 2000 || preg_match( '/[\s<>"\'\\\\]/', $url ) ) {
		return null;
	}
	$parts = wp_parse_url( $url );
	if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] ) ) {
		return null;
	}
	$scheme   = strtolower( $parts['scheme'] );
	$host     = strtolower( $parts['host'] );
	$loopback = in_array( $host, array( '127.0.0.1', '[::1]', 'localhost' ), true );
	if ( 'https' !== $scheme && ! ( 'http' === $scheme && $loopback ) ) {
		return null;
	}
	// A page's script is fetched from an origin and perhaps a path; credentials, queries and
	// fragments have no place in it.
	if ( isset( $parts['user'] ) || isset( $parts['pass'] ) || isset( $parts['query'] ) || isset( $parts['fragment'] ) ) {
		return null;
	}
	if ( ! preg_match( '/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/', $host ) ) {
		return null;
	}
	$path = isset( $parts['path'] ) ? rtrim( $parts['path'], '/' ) : '';
	if ( '' !== $path && ! preg_match( '#^(/[A-Za-z0-9._~-]+)+$#', $path ) ) {
		return null;
	}
	return $scheme . '://' . $host . ( isset( $parts['port'] ) ? ':' . (int) $parts['port'] : '' ) . $path;
}

/**
 * The selectors to leave alone, one per line, without empty lines.
 *
 * @param string $text The saved setting.
 * @return string[]
 */
function callswap_selector_list( $text ) {
	return array_values( array_filter( array_map( 'trim', preg_split( '/\R/', (string) $text ) ), 'strlen' ) );
}

/**
 * Validates what the settings form sent. A field that is wrong keeps its previous value and
 * the owner sees why.
 *
 * @param mixed $input The posted callswap_settings array.
 * @return array
 */
function callswap_sanitize_settings( $input ) {
	$saved = callswap_settings();
	if ( ! is_array( $input ) ) {
		return $saved;
	}
	$clean = $saved;

	$url = isset( $input['server_url'] ) ? trim( wp_unslash( (string) $input['server_url'] ) ) : '';
	if ( '' === $url ) {
		$clean['server_url'] = '';
	} elseif ( null !== callswap_normalise_server_url( $url ) ) {
		$clean['server_url'] = callswap_normalise_server_url( $url );
	} else {
		add_settings_error(
			CALLSWAP_OPTION,
			'callswap_server_url',
			// settings_errors() prints the message as HTML: the owner's text is escaped here.
			sprintf(
				/* translators: %s: the URL the owner entered */
				esc_html__( 'The server URL "%s" is not an https:// address such as https://track.example.com (http:// only for 127.0.0.1 or localhost). The previous value is kept.', 'callswap' ),
				esc_html( $url )
			)
		);
	}

	$site = isset( $input['site_id'] ) ? trim( wp_unslash( (string) $input['site_id'] ) ) : '';
	if ( '' === $site || preg_match( '/^[a-z0-9_-]{1,64}$/', $site ) ) {
		$clean['site_id'] = $site;
	} else {
		add_settings_error(
			CALLSWAP_OPTION,
			'callswap_site_id',
			sprintf(
				/* translators: %s: the site id the owner entered */
				esc_html__( 'The site id "%s" may only have lower-case letters, digits, "-" and "_" (1 to 64, as in the site config). The previous value is kept.', 'callswap' ),
				esc_html( $site )
			)
		);
	}

	$selectors = callswap_selector_list( isset( $input['noswap_selectors'] ) ? wp_unslash( (string) $input['noswap_selectors'] ) : '' );
	$bad       = array_filter(
		$selectors,
		function ( $selector ) {
			return strlen( $selector ) > 200 || preg_match( '/[<>{};]/', $selector );
		}
	);
	if ( $bad || count( $selectors ) > 50 ) {
		add_settings_error(
			CALLSWAP_OPTION,
			'callswap_noswap_selectors',
			esc_html__( 'Selectors to leave alone: at most 50 CSS selectors, one per line, without <, >, {, } or ;. The previous value is kept.', 'callswap' )
		);
	} else {
		$clean['noswap_selectors'] = implode( "\n", $selectors );
	}
	return $clean;
}

/**
 * Registers the setting, its section and fields.
 */
function callswap_register_settings() {
	register_setting(
		'callswap',
		CALLSWAP_OPTION,
		array(
			'type'              => 'array',
			'sanitize_callback' => 'callswap_sanitize_settings',
			'default'           => array(),
		)
	);
	add_settings_section(
		'callswap_main',
		'',
		function () {
			echo '<p>' . esc_html__( 'The callswap server serves the script and the dynamic numbers; the site id is the "site" of its site config. Visitors see the static number of the source they came from; the dynamic number only with marketing consent.', 'callswap' ) . '</p>';
		},
		'callswap'
	);
	$settings = callswap_settings();
	foreach (
		array(
			'server_url' => array( __( 'Server URL', 'callswap' ), 'url', 'https://track.example.com' ),
			'site_id'    => array( __( 'Site id', 'callswap' ), 'text', '' ),
		) as $key => list( $label, $type, $placeholder )
	) {
		add_settings_field(
			'callswap_' . $key,
			$label,
			function () use ( $settings, $key, $type, $placeholder ) {
				printf(
					'<input type="%s" class="regular-text code" id="callswap_%s" name="%s[%s]" value="%s" placeholder="%s">',
					esc_attr( $type ),
					esc_attr( $key ),
					esc_attr( CALLSWAP_OPTION ),
					esc_attr( $key ),
					esc_attr( $settings[ $key ] ),
					esc_attr( $placeholder )
				);
			},
			'callswap',
			'callswap_main',
			array( 'label_for' => 'callswap_' . $key )
		);
	}
	add_settings_field(
		'callswap_noswap_selectors',
		__( 'Leave these alone', 'callswap' ),
		function () use ( $settings ) {
			printf(
				'<textarea class="large-text code" rows="4" id="callswap_noswap_selectors" name="%s[noswap_selectors]">%s</textarea><p class="description">%s</p>',
				esc_attr( CALLSWAP_OPTION ),
				esc_textarea( $settings['noswap_selectors'] ),
				esc_html__( 'CSS selectors, one per line, whose numbers are never swapped (e.g. .imprint, #fax). They are matched when the page has loaded.', 'callswap' )
			);
		},
		'callswap',
		'callswap_main',
		array( 'label_for' => 'callswap_noswap_selectors' )
	);
}
add_action( 'admin_init', 'callswap_register_settings' );

/**
 * Adds Settings → callswap for those who may change the site's options.
 */
function callswap_add_settings_page() {
	add_options_page( 'callswap', 'callswap', 'manage_options', 'callswap', 'callswap_render_settings_page' );
}
add_action( 'admin_menu', 'callswap_add_settings_page' );

/**
 * The settings page. options.php checks the nonce settings_fields() writes and the
 * capability again when the form is saved.
 */
function callswap_render_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		wp_die( esc_html__( 'Sorry, you are not allowed to manage options for this site.', 'callswap' ), 403 );
	}
	?>
	<div class="wrap">
		<h1><?php echo esc_html( get_admin_page_title() ); ?></h1>
		<form action="options.php" method="post">
			<?php
			settings_fields( 'callswap' );
			do_settings_sections( 'callswap' );
			submit_button();
			?>
		</form>
	</div>
	<?php
}
